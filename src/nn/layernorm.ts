// LayerNorm (torch.nn.LayerNorm) over the trailing normalized_shape, elementwise affine.
import { layerNorm } from '../autograd/ops/norm';
import type { Tensor } from '../tensor';
import { ones_, zeros_ } from './init';
import { Module } from './module';
import { Parameter } from './parameter';

export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly normalizedShape: number[];

  constructor(normalizedShape: number | readonly number[], readonly eps = 1e-5) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.weight = this.registerParameter('weight', ones_(new Parameter(this.normalizedShape, 'norm_scale')) as Parameter);
    this.bias = this.registerParameter('bias', zeros_(new Parameter(this.normalizedShape, 'norm_shift')) as Parameter);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}
