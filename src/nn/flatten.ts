// Flatten (torch.nn.Flatten): flattens dims startDim..endDim (default 1..-1).
import { flatten } from '../autograd/ops/shape';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}
