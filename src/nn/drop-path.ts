// DropPath (timm's stochastic depth, scale_by_keep=True): in training mode each sample of the batch
// is dropped with probability p and the kept ones scaled by 1 / (1 - p); identity in eval mode.
// The per-sample draws come from the seeded dropout stream of random.ts.
import { ArgumentError } from '../errors';
import { dropPath } from '../autograd/ops/activation';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class DropPath extends Module {
  constructor(readonly p = 0) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`DropPath: p must be in [0, 1], got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropPath(x, this.p, this.training);
  }
}
