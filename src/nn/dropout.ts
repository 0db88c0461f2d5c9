// Dropout (torch.nn.Dropout): inverted dropout in training mode, identity in eval mode. The mask
// comes from the seeded stream of random.ts.
import { ArgumentError } from '../errors';
import { dropout } from '../autograd/ops/activation';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be in [0, 1], got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}
