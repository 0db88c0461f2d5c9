// Conv2d (torch.nn.Conv2d): stride, padding, dilation, groups; weight (out, in/groups, kh, kw).
import { ArgumentError } from '../errors';
import { conv2d, pair, type IntPair } from '../autograd/ops/conv';
import type { Tensor } from '../tensor';
import { defaultBiasInit_, defaultWeightInit_ } from './init';
import { Module } from './module';
import { Parameter } from './parameter';

export interface Conv2dOptions {
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: IntPair, options: Conv2dOptions = {}) {
    super();
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new ArgumentError(`Conv2d: in_channels ${inChannels} and out_channels ${outChannels} must be divisible by groups ${this.groups}`);
    }
    const [kh, kw] = pair(kernelSize, 'kernel_size', 'Conv2d', 1);
    this.stride = pair(options.stride ?? 1, 'stride', 'Conv2d', 1);
    this.padding = pair(options.padding ?? 0, 'padding', 'Conv2d', 0);
    this.dilation = pair(options.dilation ?? 1, 'dilation', 'Conv2d', 1);
    this.weight = this.registerParameter('weight', new Parameter([outChannels, inChannels / this.groups, kh, kw], 'weight'));
    this.weight.groups = this.groups;
    defaultWeightInit_(this.weight);
    this.bias = this.registerParameter('bias', options.bias === false ? null : new Parameter([outChannels], 'bias'));
    if (this.bias) defaultBiasInit_(this.bias, this.weight.shape);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}
