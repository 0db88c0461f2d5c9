// Linear (torch.nn.Linear): y = x W^T + b, weight (out, in), PyTorch's default initialization.
import { linear } from '../autograd/ops/matmul';
import type { Tensor } from '../tensor';
import { defaultBiasInit_, defaultWeightInit_ } from './init';
import { Module } from './module';
import { Parameter } from './parameter';

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    this.weight = this.registerParameter('weight', new Parameter([outFeatures, inFeatures], 'weight'));
    defaultWeightInit_(this.weight);
    this.bias = this.registerParameter('bias', options.bias === false ? null : new Parameter([outFeatures], 'bias'));
    if (this.bias) defaultBiasInit_(this.bias, this.weight.shape);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
