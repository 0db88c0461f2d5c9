// ConvNeXt (timm.models.convnext.ConvNeXt with conv_mlp=False, the convnext_* defaults) with
// timm's parameter names: stem.0 (conv patch x patch, stride patch) and stem.1 (LayerNorm2d);
// stages.i.downsample.0/1 (LayerNorm2d, conv 2x2 stride 2; stages 1-3); stages.i.blocks.j with
// conv_dw (depthwise 7x7), norm (LayerNorm over channels, run in NHWC), mlp.fc1 (x4) GELU mlp.fc2,
// gamma (LayerScale, init 1e-6), drop path and the residual; head: global average pool,
// head.norm, head.drop, head.fc. convnext_tiny: 28,589,128 parameters in 182 tensors at 1000.
// The block's NHWC part (norm, MLP, gamma) reads a channelsLast conv output without a copy
// (F.toNhwc / F.fromNhwc); a contiguous model pays one permute copy each way, as timm's permutes
// do once a kernel needs contiguous memory.
import { ArgumentError } from '../errors';
import { add, mul } from '../autograd/ops/elementwise';
import { fromNhwc, toNhwc } from '../autograd/ops/shape';
import { AdaptiveAvgPool2d } from '../nn/adaptive-avgpool2d';
import { Conv2d } from '../nn/conv2d';
import { DropPath } from '../nn/drop-path';
import { Dropout } from '../nn/dropout';
import { Flatten } from '../nn/flatten';
import { GELU } from '../nn/gelu';
import { constant_, truncNormal_, zeros_ } from '../nn/init';
import { LayerNorm } from '../nn/layernorm';
import { LayerNorm2d } from '../nn/layernorm2d';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';
import { Sequential } from '../nn/sequential';
import type { Tensor } from '../tensor';

/** timm's Mlp (fc1, GELU, fc2; drop 0). */
class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: GELU;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(dim, hidden));
    this.act = this.registerModule('act', new GELU());
    this.fc2 = this.registerModule('fc2', new Linear(hidden, dim));
  }

  forward(x: Tensor): Tensor {
    return this.fc2.call(this.act.call(this.fc1.call(x)));
  }
}

/** timm's ConvNeXtBlock (conv_mlp=False): dw conv, then norm / MLP / gamma over the channels in NHWC, drop path, residual. */
export class ConvNeXtBlock extends Module {
  readonly convDw: Conv2d;
  readonly norm: LayerNorm;
  readonly mlp: Mlp;
  readonly gamma: Parameter | null;
  readonly dropPath: DropPath;

  constructor(dim: number, options: { kernelSize?: number; mlpRatio?: number; lsInitValue?: number | null; dropPath?: number } = {}) {
    super();
    const k = options.kernelSize ?? 7;
    this.convDw = this.registerModule('conv_dw', new Conv2d(dim, dim, k, { padding: (k - 1) / 2, groups: dim }));
    this.norm = this.registerModule('norm', new LayerNorm(dim, 1e-6));
    this.mlp = this.registerModule('mlp', new Mlp(dim, Math.floor((options.mlpRatio ?? 4) * dim)));
    const ls = options.lsInitValue === undefined ? 1e-6 : options.lsInitValue;
    this.gamma = this.registerParameter('gamma', ls === null ? null : constant_(new Parameter([dim], 'layer_scale'), ls) as Parameter);
    this.dropPath = this.registerModule('drop_path', new DropPath(options.dropPath ?? 0));
  }

  forward(x: Tensor): Tensor {
    let y = this.mlp.call(this.norm.call(toNhwc(this.convDw.call(x))));
    if (this.gamma) y = mul(y, this.gamma);
    y = fromNhwc(y).to({ memoryFormat: x.memoryFormat });
    return add(this.dropPath.call(y), x);
  }
}

/** timm's ConvNeXtStage: downsample (LayerNorm2d + conv 2x2 stride 2) where the shape changes, then the blocks. */
export class ConvNeXtStage extends Module {
  readonly downsample: Sequential | null;
  readonly blocks: Sequential;

  constructor(inChs: number, outChs: number, stride: number, dropPathRates: readonly number[], lsInitValue: number | null) {
    super();
    this.downsample = inChs !== outChs || stride > 1
      ? this.registerModule('downsample', new Sequential(new LayerNorm2d(inChs), new Conv2d(inChs, outChs, stride > 1 ? 2 : 1, { stride })))
      : null;
    this.blocks = this.registerModule('blocks', new Sequential(...dropPathRates.map((dp) => new ConvNeXtBlock(outChs, { dropPath: dp, lsInitValue }))));
  }

  forward(x: Tensor): Tensor {
    return this.blocks.call(this.downsample ? this.downsample.call(x) : x);
  }
}

/** timm's NormMlpClassifierHead without hidden layer: pool, norm, flatten, drop, fc (norm over channels of the pooled vector). */
class NormHead extends Module {
  readonly globalPool: AdaptiveAvgPool2d;
  readonly flatten: Flatten;
  readonly norm: LayerNorm;
  readonly drop: Dropout;
  readonly fc: Linear;

  constructor(dim: number, numClasses: number, drop: number) {
    super();
    this.globalPool = this.registerModule('global_pool', new AdaptiveAvgPool2d(1));
    this.flatten = this.registerModule('flatten', new Flatten());
    this.norm = this.registerModule('norm', new LayerNorm(dim, 1e-6));
    this.drop = this.registerModule('drop', new Dropout(drop));
    this.fc = this.registerModule('fc', new Linear(dim, numClasses));
  }

  forward(x: Tensor): Tensor {
    return this.fc.call(this.drop.call(this.norm.call(this.flatten.call(this.globalPool.call(x)))));
  }
}

export interface ConvNeXtOptions {
  /** Blocks per stage (convnext_tiny: [3, 3, 9, 3]). */
  depths?: readonly number[];
  /** Channels per stage (convnext_tiny: [96, 192, 384, 768]). */
  dims?: readonly number[];
  numClasses?: number;
  inChannels?: number;
  patchSize?: number;
  /** LayerScale init (timm's ls_init_value, 1e-6); null: no gamma. */
  lsInitValue?: number | null;
  /** timm's drop_rate: dropout before head.fc. */
  drop?: number;
  /** timm's drop_path_rate: the last block's rate, rising linearly from 0 over all blocks. */
  dropPath?: number;
}

export class ConvNeXt extends Module {
  readonly stem: Sequential;
  readonly stages: Sequential;
  readonly head: NormHead;

  constructor(options: ConvNeXtOptions = {}) {
    super();
    const { depths = [3, 3, 9, 3], dims = [96, 192, 384, 768], numClasses = 1000, inChannels = 3, patchSize = 4 } = options;
    if (depths.length !== 4 || dims.length !== 4 || ![...depths, ...dims].every((n) => Number.isSafeInteger(n) && n >= 1)) {
      throw new ArgumentError(`convnext: depths and dims must be 4 positive integers each, got depths [${depths.join(', ')}], dims [${dims.join(', ')}]`);
    }
    const lsInitValue = options.lsInitValue === undefined ? 1e-6 : options.lsInitValue;
    const total = depths.reduce((a, b) => a + b, 0);
    const rate = options.dropPath ?? 0;
    // torch.linspace(0, drop_path_rate, total) split by stage
    const dpr = Array.from({ length: total }, (_, i) => (total > 1 ? (rate * i) / (total - 1) : 0));
    this.stem = this.registerModule('stem', new Sequential(new Conv2d(inChannels, dims[0], patchSize, { stride: patchSize }), new LayerNorm2d(dims[0])));
    let start = 0;
    this.stages = this.registerModule('stages', new Sequential(...depths.map((d, i) => {
      const stage = new ConvNeXtStage(i === 0 ? dims[0] : dims[i - 1], dims[i], i === 0 ? 1 : 2, dpr.slice(start, start + d), lsInitValue);
      start += d;
      return stage;
    })));
    this.head = this.registerModule('head', new NormHead(dims[3], numClasses, options.drop ?? 0));
    // timm's _init_weights: conv and linear weights trunc_normal(std .02), biases 0.
    for (const p of this.parameters()) {
      if (p.role === 'weight') truncNormal_(p, 0, 0.02);
      else if (p.role === 'bias') zeros_(p);
    }
  }

  forward(x: Tensor): Tensor {
    return this.head.call(this.stages.call(this.stem.call(x)));
  }
}

export function convnext(options: ConvNeXtOptions = {}): ConvNeXt {
  return new ConvNeXt(options);
}

/** timm's convnext_tiny: depths 3/3/9/3, dims 96/192/384/768. */
export function convnextTiny(options: Omit<ConvNeXtOptions, 'depths' | 'dims'> = {}): ConvNeXt {
  return new ConvNeXt({ ...options, depths: [3, 3, 9, 3], dims: [96, 192, 384, 768] });
}
