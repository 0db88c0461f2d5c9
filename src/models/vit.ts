// Vision Transformer with timm's structure and parameter names (timm.models.vision_transformer,
// VisionTransformer with its defaults: class token, learned position embedding over class token +
// patches, pre-norm blocks, LayerNorm eps 1e-6, qkv bias, no pre-logits, global pool 'token',
// final norm then head). The one difference: attention's fused `qkv` is split into `q`, `k`, `v`
// (QKV_SPLIT_MAPPING converts checkpoints). vit() builds any size (the parity tests' reduced
// model); vitSmallPatch16_224() is timm's vit_small_patch16_224 (22,050,664 parameters; 152
// tensors with qkv fused, 200 split).
//   patch_embed.proj  Conv2d(in, dim, patch, stride patch) -> (B, N, dim) tokens
//   cls_token (1, 1, dim), pos_embed (1, N + 1, dim): x = cat(cls, tokens) + pos_embed, pos_drop
//   blocks.i: x + drop_path(attn(norm1(x))); x + drop_path(mlp(norm2(x)))  (mlp: fc1, GELU, fc2)
//   norm, class token x[:, 0], head_drop, head
// Default init as timm's init_weights(''): pos_embed trunc_normal(std .02), cls_token normal(std
// 1e-6), every Linear trunc_normal(std .02) with zero bias; the patch conv keeps PyTorch's
// default. Drop-path rates rise linearly from 0 to dropPath over the blocks (timm's linspace).
import { ArgumentError, ShapeError } from '../errors';
import { add } from '../autograd/ops/elementwise';
import { narrow, prependToken } from '../autograd/ops/concat';
import { permute } from '../autograd/ops/shape';
import { Attention } from '../nn/attention';
import { Conv2d } from '../nn/conv2d';
import { Dropout } from '../nn/dropout';
import { DropPath } from '../nn/drop-path';
import { GELU } from '../nn/gelu';
import { normal_, zeros_ } from '../nn/init';
import { LayerNorm } from '../nn/layernorm';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';
import { Sequential } from '../nn/sequential';
import { Generator, defaultGenerator } from '../random';
import { shapeToString, type Tensor } from '../tensor';

/** timm's trunc_normal_(t, std) with its absolute bounds [-2, 2] (a no-op truncation at std .02): redraws outside. */
export function truncNormal_(t: Tensor, std: number, gen: Generator = defaultGenerator, low = -2, high = 2): Tensor {
  const values = new Float32Array(t.numel);
  for (let i = 0; i < values.length; i++) {
    let v: number;
    do v = std * gen.normal(); while (v < low || v > high);
    values[i] = v;
  }
  t.copyFromHost(values);
  return t;
}

function timmLinear(inF: number, outF: number, bias = true): Linear {
  const l = new Linear(inF, outF, { bias });
  truncNormal_(l.weight, 0.02);
  if (l.bias) zeros_(l.bias);
  return l;
}

/** timm's Mlp: fc1, GELU, drop, fc2, drop (the same dropout rate twice: proj_drop). */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: GELU;
  readonly fc2: Linear;
  private readonly drop: Dropout;

  constructor(dim: number, hidden: number, drop = 0) {
    super();
    this.fc1 = this.registerModule('fc1', timmLinear(dim, hidden));
    this.act = this.registerModule('act', new GELU());
    this.drop = this.registerModule('drop', new Dropout(drop));
    this.fc2 = this.registerModule('fc2', timmLinear(hidden, dim));
  }

  forward(x: Tensor): Tensor {
    return this.drop.call(this.fc2.call(this.drop.call(this.act.call(this.fc1.call(x)))));
  }
}

/** timm's vision_transformer.Block without LayerScale (init_values None): pre-norm attention and MLP residuals. */
export class ViTBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  private readonly dropPath: DropPath;

  constructor(dim: number, numHeads: number, options: { mlpRatio?: number; projDrop?: number; attnDrop?: number; dropPath?: number } = {}) {
    super();
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, 1e-6));
    this.attn = this.registerModule('attn', new Attention(dim, numHeads, { qkvBias: true, attnDrop: options.attnDrop, projDrop: options.projDrop }));
    for (const l of [this.attn.q, this.attn.k, this.attn.v, this.attn.proj]) {
      truncNormal_(l.weight, 0.02);
      if (l.bias) zeros_(l.bias);
    }
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, 1e-6));
    this.mlp = this.registerModule('mlp', new Mlp(dim, Math.floor(dim * (options.mlpRatio ?? 4)), options.projDrop ?? 0));
    this.dropPath = this.registerModule('drop_path', new DropPath(options.dropPath ?? 0));
  }

  forward(x: Tensor): Tensor {
    const y = add(x, this.dropPath.call(this.attn.call(this.norm1.call(x))));
    return add(y, this.dropPath.call(this.mlp.call(this.norm2.call(y))));
  }
}

export interface ViTOptions {
  imgSize?: number;
  patchSize?: number;
  inChannels?: number;
  numClasses?: number;
  embedDim?: number;
  depth?: number;
  numHeads?: number;
  mlpRatio?: number;
  /** timm's drop_rate: the head dropout (before `head`). */
  drop?: number;
  /** timm's drop_path_rate: the last block's rate (linear from 0). */
  dropPath?: number;
  /** timm's proj_drop_rate (attention projection and MLP dropout). */
  projDrop?: number;
  /** timm's pos_drop_rate. */
  posDrop?: number;
  attnDrop?: number;
}

export class VisionTransformer extends Module {
  readonly clsToken: Parameter;
  readonly posEmbed: Parameter;
  readonly patchProj: Conv2d;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly head: Linear;
  readonly embedDim: number;
  private readonly posDrop: Dropout;
  private readonly headDrop: Dropout;

  constructor(options: ViTOptions = {}) {
    super();
    const { imgSize = 224, patchSize = 16, inChannels = 3, numClasses = 1000, embedDim = 768, depth = 12, numHeads = 12 } = options;
    if (!Number.isSafeInteger(patchSize) || patchSize < 1 || imgSize % patchSize !== 0) {
      throw new ArgumentError(`VisionTransformer: image size ${imgSize} is not a multiple of the patch size ${patchSize}`);
    }
    if (!Number.isSafeInteger(depth) || depth < 1) throw new ArgumentError(`VisionTransformer: depth must be a positive integer, got ${depth}`);
    this.embedDim = embedDim;
    const numPatches = (imgSize / patchSize) ** 2;
    // timm registers these on the model itself: named_parameters lists them first.
    this.clsToken = this.registerParameter('cls_token', new Parameter([1, 1, embedDim], 'cls_token'));
    normal_(this.clsToken, 0, 1e-6);
    this.posEmbed = this.registerParameter('pos_embed', new Parameter([1, numPatches + 1, embedDim], 'pos_embed'));
    truncNormal_(this.posEmbed, 0.02);
    const patchEmbed = new PatchEmbed(inChannels, embedDim, patchSize);
    this.patchProj = this.registerModule('patch_embed', patchEmbed).proj;
    this.posDrop = this.registerModule('pos_drop', new Dropout(options.posDrop ?? 0));
    const top = options.dropPath ?? 0;
    const blocks: ViTBlock[] = [];
    for (let i = 0; i < depth; i++) {
      const rate = depth > 1 ? (top * i) / (depth - 1) : 0;
      blocks.push(new ViTBlock(embedDim, numHeads, { mlpRatio: options.mlpRatio, projDrop: options.projDrop, attnDrop: options.attnDrop, dropPath: rate }));
    }
    this.blocks = this.registerModule('blocks', new Sequential(...blocks));
    this.norm = this.registerModule('norm', new LayerNorm(embedDim, 1e-6));
    this.headDrop = this.registerModule('head_drop', new Dropout(options.drop ?? 0));
    this.head = this.registerModule('head', timmLinear(embedDim, numClasses));
  }

  /** (B, C, H, W) -> the final-norm tokens (B, N + 1, dim). */
  forwardFeatures(x: Tensor): Tensor {
    const tokens = this.patchProj.call(x);  // (B, dim, h, w)
    const [b, d, h, w] = tokens.shape;
    if (h * w + 1 !== this.posEmbed.shape[1]) {
      throw new ShapeError(`VisionTransformer: input ${shapeToString(x.shape)} gives ${h * w} patches, the position embedding has ${this.posEmbed.shape[1] - 1}`);
    }
    const seq = permute(tokens.reshape([b, d, h * w]), [0, 2, 1]);
    let y = this.posDrop.call(add(prependToken(this.clsToken, seq), this.posEmbed));
    y = this.blocks.call(y);
    return this.norm.call(y);
  }

  forward(x: Tensor): Tensor {
    const y = this.forwardFeatures(x);
    const cls = narrow(y, 1, 0, 1).reshape([y.shape[0], this.embedDim]);
    return this.head.call(this.headDrop.call(cls));
  }
}

/** timm's PatchEmbed: `proj` Conv2d(in, dim, patch, stride patch) with bias (flattening is the model's). */
export class PatchEmbed extends Module {
  readonly proj: Conv2d;
  constructor(inChannels: number, embedDim: number, patchSize: number) {
    super();
    this.proj = this.registerModule('proj', new Conv2d(inChannels, embedDim, patchSize, { stride: patchSize, bias: true }));
  }

  forward(x: Tensor): Tensor {
    return this.proj.call(x);
  }
}

export function vit(options: ViTOptions = {}): VisionTransformer {
  return new VisionTransformer(options);
}

/** timm's vit_small_patch16_224: dim 384, depth 12, 6 heads, MLP 1536. */
export function vitSmallPatch16_224(options: Omit<ViTOptions, 'patchSize' | 'embedDim' | 'depth' | 'numHeads'> = {}): VisionTransformer {
  return vit({ ...options, patchSize: 16, embedDim: 384, depth: 12, numHeads: 6 });
}
