// Swin Transformer (timm's swin_transformer.py, 1.0): `swin_tiny_patch4_window7_224` and reduced
// configurations through swin({...}). Names are timm's except WindowAttention's fused `qkv`,
// split into `attn.q`, `attn.k`, `attn.v` (QKV_SPLIT_MAPPING in src/models/weights.ts).
//   patch_embed.proj (conv p x p, stride p) -> NHWC -> patch_embed.norm
//   layers.i: downsample (PatchMerging, stages 1..: 2x2 neighbours concatenated in timm's order,
//             norm, reduction 4C -> 2C without bias), then blocks.j (SwinTransformerBlock)
//   block: x + drop_path1(attn(norm1(x))) in windows (every second block shifted by ws/2, with
//          the shifted-window mask), then x + drop_path2(mlp(norm2(x))) (fc1, GELU, fc2)
//   norm (LayerNorm), global average pool over H x W, head.fc (after a dropout of `drop`).
// Activations are (B, H, W, C) token maps, as timm's. As timm does, a stage whose token map is no
// larger than the window uses the map as its single window and does not shift. Non-persistent
// buffers (not in the state dict): attn.relative_position_index (int32 here, int64 in timm) and
// the shifted blocks' attn_mask.
import { ArgumentError, ShapeError } from '../errors';
import { adaptiveAvgPool2d } from '../autograd/ops/pool';
import { add } from '../autograd/ops/elementwise';
import { dropout } from '../autograd/ops/activation';
import {
  relativePositionBias, relativePositionIndexTensor, shiftedWindowMask, windowMaskAdd, windowPartition, windowReverse,
} from '../autograd/ops/window';
import { Attention } from '../nn/attention';
import { Conv2d } from '../nn/conv2d';
import { DropPath } from '../nn/drop-path';
import { GELU } from '../nn/gelu';
import { LayerNorm } from '../nn/layernorm';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';
import { Sequential } from '../nn/sequential';
import { zeros_ } from '../nn/init';
import { shapeToString, type Tensor } from '../tensor';

/** WindowAttention: Attention (q, k, v, proj) plus the relative position bias table ((2ws-1)^2, heads). */
export class WindowAttention extends Attention {
  readonly relative_position_bias_table: Parameter;
  readonly windowArea: number;

  constructor(dim: number, numHeads: number, readonly windowSize: number, options: { qkvBias?: boolean } = {}) {
    super(dim, numHeads, { qkvBias: options.qkvBias ?? true });
    this.windowArea = windowSize * windowSize;
    this.relative_position_bias_table = this.registerParameter(
      'relative_position_bias_table', zeros_(new Parameter([(2 * windowSize - 1) ** 2, numHeads], 'rel_pos_table')) as Parameter);
    this.registerBuffer('relative_position_index', relativePositionIndexTensor(windowSize), false);
  }

  /**
   * windows (B * nW, ws*ws, C) -> the same; mask (nW, n, n) for a shifted block. As timm's
   * (non-fused) path: q is scaled before q @ k^T (so bfloat16 rounds where timm's does), the
   * float32 bias promotes the logits to float32, then the mask, softmax, weights @ v, proj.
   */
  forwardWindows(x: Tensor, mask: Tensor | null): Tensor {
    if (x.ndim !== 3 || x.shape[1] !== this.windowArea || x.shape[2] !== this.dim) {
      throw new ShapeError(`WindowAttention: expected windows (B * nW, ${this.windowArea}, ${this.dim}), got ${shapeToString(x.shape)}`);
    }
    const bias = relativePositionBias(this.relative_position_bias_table, this.buffer('relative_position_index'), this.windowArea);
    // Heads read in place from the projections (ops/heads.ts): no permute copies.
    return this.attend(x, { scaleQuery: true, bias, logits: mask ? (l) => windowMaskAdd(l, mask) : undefined });
  }
}

/** timm's Mlp: fc1, GELU, fc2 (dropout `drop` after each, timm's proj_drop). */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: GELU;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, readonly drop = 0) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(dim, hidden));
    this.act = this.registerModule('act', new GELU());
    this.fc2 = this.registerModule('fc2', new Linear(hidden, dim));
  }

  forward(x: Tensor): Tensor {
    const h = dropout(this.act.call(this.fc1.call(x)), this.drop, this.training);
    return dropout(this.fc2.call(h), this.drop, this.training);
  }
}

export interface SwinBlockOptions {
  dim: number;
  numHeads: number;
  /** The token map (H, W) the block sees. */
  resolution: [number, number];
  windowSize: number;
  shift: number;
  mlpRatio?: number;
  dropPath?: number;
}

export class SwinTransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: WindowAttention;
  readonly drop_path1: DropPath;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly drop_path2: DropPath;
  /** After timm's clamp: the map itself when it is no larger than the window (then no shift). */
  readonly windowSize: number;
  readonly shift: number;

  constructor(readonly options: SwinBlockOptions) {
    super();
    const { dim, numHeads, resolution: [h, w] } = options;
    const fits = h <= options.windowSize && w <= options.windowSize;
    if (fits && h !== w) throw new ArgumentError(`SwinTransformerBlock: a ${h}x${w} token map below window ${options.windowSize} would need a non-square window`);
    this.windowSize = fits ? h : options.windowSize;
    this.shift = fits ? 0 : options.shift;
    if (h % this.windowSize !== 0 || w % this.windowSize !== 0) {
      throw new ShapeError(`SwinTransformerBlock: token map ${h}x${w} is not a multiple of window ${this.windowSize} (padding is not implemented)`);
    }
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim));
    this.attn = this.registerModule('attn', new WindowAttention(dim, numHeads, this.windowSize));
    this.drop_path1 = this.registerModule('drop_path1', new DropPath(options.dropPath ?? 0));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim));
    this.mlp = this.registerModule('mlp', new Mlp(dim, Math.trunc(dim * (options.mlpRatio ?? 4))));
    this.drop_path2 = this.registerModule('drop_path2', new DropPath(options.dropPath ?? 0));
    if (this.shift > 0) this.registerBuffer('attn_mask', shiftedWindowMask(h, w, this.windowSize, this.shift), false);
  }

  forward(x: Tensor): Tensor {
    const [b, h, w, c] = x.shape;
    if (x.ndim !== 4 || h !== this.options.resolution[0] || w !== this.options.resolution[1] || c !== this.options.dim) {
      throw new ShapeError(`SwinTransformerBlock: expected (B, ${this.options.resolution.join(', ')}, ${this.options.dim}), got ${shapeToString(x.shape)}`);
    }
    const ws = this.windowSize;
    const windows = windowPartition(this.norm1.call(x), ws, this.shift);
    const attended = this.attn.forwardWindows(windows, this.shift > 0 ? this.buffer('attn_mask') : null);
    const y = add(x, this.drop_path1.call(windowReverse(attended, ws, h, w, this.shift)));
    const tokens = y.reshape([b, h * w, c]);
    return add(tokens, this.drop_path2.call(this.mlp.call(this.norm2.call(tokens)))).reshape([b, h, w, c]);
  }
}

/** timm's PatchMerging: (B, H, W, C) -> (B, H/2, W/2, 2C), the 2x2 neighbours in timm's order (h fastest). */
export class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: Linear;

  constructor(readonly dim: number, outDim = 2 * dim) {
    super();
    this.norm = this.registerModule('norm', new LayerNorm(4 * dim));
    this.reduction = this.registerModule('reduction', new Linear(4 * dim, outDim, { bias: false }));
  }

  forward(x: Tensor): Tensor {
    const [b, h, w, c] = x.shape;
    if (x.ndim !== 4 || c !== this.dim || h % 2 !== 0 || w % 2 !== 0) {
      throw new ShapeError(`PatchMerging: expected (B, H, W, ${this.dim}) with even H and W, got ${shapeToString(x.shape)}`);
    }
    const merged = x.reshape([b, h / 2, 2, w / 2, 2, c]).permute([0, 1, 3, 4, 2, 5]).reshape([b, h / 2, w / 2, 4 * c]);
    return this.reduction.call(this.norm.call(merged));
  }
}

export class SwinTransformerStage extends Module {
  readonly downsample: PatchMerging | null;
  readonly blocks: Sequential;

  constructor(dim: number, outDim: number, resolution: [number, number], depth: number, numHeads: number, windowSize: number,
    downsample: boolean, dropPath: number[], mlpRatio: number) {
    super();
    this.downsample = downsample ? this.registerModule('downsample', new PatchMerging(dim, outDim)) : null;
    const res: [number, number] = downsample ? [resolution[0] / 2, resolution[1] / 2] : resolution;
    const blocks = Array.from({ length: depth }, (_, i) => new SwinTransformerBlock({
      dim: outDim, numHeads, resolution: res, windowSize, shift: i % 2 === 0 ? 0 : Math.floor(windowSize / 2), mlpRatio, dropPath: dropPath[i],
    }));
    this.blocks = this.registerModule('blocks', new Sequential(...blocks));
  }

  forward(x: Tensor): Tensor {
    return this.blocks.call(this.downsample ? this.downsample.call(x) : x);
  }
}

/** timm's PatchEmbed with output_fmt NHWC: conv p x p stride p, then LayerNorm over channels. */
export class PatchEmbed extends Module {
  readonly proj: Conv2d;
  readonly norm: LayerNorm;

  constructor(inChannels: number, embedDim: number, readonly patchSize: number) {
    super();
    this.proj = this.registerModule('proj', new Conv2d(inChannels, embedDim, patchSize, { stride: patchSize }));
    this.norm = this.registerModule('norm', new LayerNorm(embedDim));
  }

  forward(x: Tensor): Tensor {
    return this.norm.call(this.proj.call(x).permute([0, 2, 3, 1]));
  }
}

export interface SwinOptions {
  imgSize?: number;
  patchSize?: number;
  inChannels?: number;
  numClasses?: number;
  embedDim?: number;
  depths?: readonly number[];
  numHeads?: readonly number[];
  windowSize?: number;
  mlpRatio?: number;
  /** timm's drop_rate: dropout before head.fc. */
  drop?: number;
  /** timm's drop_path_rate: linear from 0 over all blocks. */
  dropPath?: number;
}

export class SwinTransformer extends Module {
  readonly patch_embed: PatchEmbed;
  readonly layers: Sequential;
  readonly norm: LayerNorm;
  readonly head: Module;
  readonly fc: Linear;
  readonly numFeatures: number;
  readonly drop: number;

  constructor(options: SwinOptions = {}) {
    super();
    const imgSize = options.imgSize ?? 224;
    const patch = options.patchSize ?? 4;
    const embed = options.embedDim ?? 96;
    const depths = options.depths ?? [2, 2, 6, 2];
    const heads = options.numHeads ?? [3, 6, 12, 24];
    const ws = options.windowSize ?? 7;
    if (depths.length !== heads.length || depths.length < 1) throw new ArgumentError(`swin: depths [${depths.join(', ')}] and num_heads [${heads.join(', ')}] must have the same length`);
    if (imgSize % patch !== 0) throw new ArgumentError(`swin: image size ${imgSize} is not a multiple of patch size ${patch}`);
    this.drop = options.drop ?? 0;
    const total = depths.reduce((a, d) => a + d, 0);
    const rate = options.dropPath ?? 0;
    const dpr = Array.from({ length: total }, (_, i) => (total > 1 ? (rate * i) / (total - 1) : 0));
    this.patch_embed = this.registerModule('patch_embed', new PatchEmbed(options.inChannels ?? 3, embed, patch));
    let res: [number, number] = [imgSize / patch, imgSize / patch];
    let inDim = embed;
    let start = 0;
    const stages: Module[] = [];
    depths.forEach((depth, i) => {
      const outDim = embed * 2 ** i;
      stages.push(new SwinTransformerStage(inDim, outDim, res, depth, heads[i], ws, i > 0, dpr.slice(start, start + depth), options.mlpRatio ?? 4));
      if (i > 0) res = [res[0] / 2, res[1] / 2];
      inDim = outDim;
      start += depth;
    });
    this.layers = this.registerModule('layers', new Sequential(...stages));
    this.numFeatures = inDim;
    this.norm = this.registerModule('norm', new LayerNorm(inDim));
    this.fc = new Linear(inDim, options.numClasses ?? 1000);
    this.head = this.registerModule('head', new Sequential(['fc', this.fc]));
  }

  forward(x: Tensor): Tensor {
    const features = this.norm.call(this.layers.call(this.patch_embed.call(x)));
    const [b, , , c] = features.shape;
    const pooled = adaptiveAvgPool2d(features.permute([0, 3, 1, 2]), 1).reshape([b, c]);
    return this.fc.call(dropout(pooled, this.drop, this.training));
  }
}

export function swin(options: SwinOptions = {}): SwinTransformer {
  return new SwinTransformer(options);
}

/** swin_tiny_patch4_window7_224: embed 96, depths 2/2/6/2, heads 3/6/12/24, window 7. */
export function swinTiny(numClasses = 1000, options: Omit<SwinOptions, 'numClasses'> = {}): SwinTransformer {
  return new SwinTransformer({ embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24], windowSize: 7, patchSize: 4, ...options, numClasses });
}
