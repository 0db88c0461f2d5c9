// AvgPool2d (torch.nn.AvgPool2d), floor mode, count_include_pad as PyTorch (default true).
import { avgPool2d } from '../autograd/ops/pool';
import type { IntPair } from '../autograd/ops/conv';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: IntPair,
    readonly stride?: IntPair,
    readonly padding: IntPair = 0,
    readonly countIncludePad = true,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.stride, this.padding, this.countIncludePad);
  }
}
