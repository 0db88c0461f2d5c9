// LayerScale (timm's ls1 / ls2, ConvNeXt's gamma): x * gamma over the last dimension, gamma (dim)
// initialized to `init` (timm's init_values, 1e-5 by default). The product is the broadcast mul
// (channel_mul kernels); serialized as `gamma`.
import { mul } from '../autograd/ops/elementwise';
import type { Tensor } from '../tensor';
import { constant_ } from './init';
import { Module } from './module';
import { Parameter } from './parameter';

export class LayerScale extends Module {
  readonly gamma: Parameter;

  constructor(readonly dim: number, init = 1e-5) {
    super();
    this.gamma = this.registerParameter('gamma', constant_(new Parameter([dim], 'layer_scale'), init) as Parameter);
  }

  forward(x: Tensor): Tensor {
    return mul(x, this.gamma);
  }
}
