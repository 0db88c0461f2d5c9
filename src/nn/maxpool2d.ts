// MaxPool2d (torch.nn.MaxPool2d), floor mode, dilation 1.
import { maxPool2d } from '../autograd/ops/pool';
import type { IntPair } from '../autograd/ops/conv';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: IntPair, readonly stride?: IntPair, readonly padding: IntPair = 0) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.stride, this.padding);
  }
}
