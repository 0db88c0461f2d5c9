// AdaptiveAvgPool2d (torch.nn.AdaptiveAvgPool2d) for output size 1: global average pooling.
import { adaptiveAvgPool2d } from '../autograd/ops/pool';
import type { IntPair } from '../autograd/ops/conv';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: IntPair = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
