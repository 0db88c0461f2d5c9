// timm's LayerNorm2d: LayerNorm over the channels of an (N, C, H, W) tensor (ConvNeXt's stem and
// downsampling layers), elementwise affine; parameters `weight` and `bias` as timm names them.
import { layerNorm2d } from '../autograd/ops/norm';
import type { Tensor } from '../tensor';
import { ones_, zeros_ } from './init';
import { Module } from './module';
import { Parameter } from './parameter';

export class LayerNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly eps: number;

  constructor(readonly numChannels: number, options: { eps?: number } = {}) {
    super();
    this.eps = options.eps ?? 1e-6;
    this.weight = this.registerParameter('weight', ones_(new Parameter([numChannels], 'norm_scale')) as Parameter);
    this.bias = this.registerParameter('bias', zeros_(new Parameter([numChannels], 'norm_shift')) as Parameter);
  }

  forward(x: Tensor): Tensor {
    return layerNorm2d(x, this.weight, this.bias, this.eps);
  }
}
