// Multi-head self-attention with separate query, key and value projections (timm's Attention, with
// its fused `qkv` split into `q`, `k` and `v`: the paper's eta is per q, k and v). Parameter names
// `q.weight`, `q.bias`, `k.*`, `v.*`, `proj.*`; a checkpoint's `qkv.weight` (3*dim, dim) is split
// on import and re-fused on export by the model's state mapping (src/models/weights.ts).
// x (batch, tokens, dim) -> (batch, tokens, dim). `attend(x, options)` takes the attention
// options of scaledDotProductAttention (a logits bias such as Swin's relative-position bias, a
// logits transform such as its shifted-window mask).
import { ArgumentError, ShapeError } from '../errors';
import type { AttentionOptions } from '../autograd/ops/attention';
import { dropout, softmax } from '../autograd/ops/activation';
import { add, scale } from '../autograd/ops/elementwise';
import { headLogits, headWeightedSum } from '../autograd/ops/heads';
import { autocastDType } from '../autocast';
import type { Tensor } from '../tensor';
import { shapeToString } from '../tensor';
import { Linear } from './linear';
import { Module } from './module';

export interface AttentionModuleOptions {
  qkvBias?: boolean;
  attnDrop?: number;
  projDrop?: number;
}

export interface AttendOptions extends Omit<AttentionOptions, 'dropout' | 'training'> {
  /** Scale q before q @ k^T (timm's Swin and non-fused paths: bfloat16 rounds where theirs does) instead of the product. */
  scaleQuery?: boolean;
}

export class Attention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly proj: Linear;
  readonly headDim: number;

  constructor(readonly dim: number, readonly numHeads: number, readonly options: AttentionModuleOptions = {}) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || dim % numHeads !== 0) {
      throw new ArgumentError(`Attention: dim ${dim} is not divisible into ${numHeads} heads`);
    }
    this.headDim = dim / numHeads;
    const bias = options.qkvBias ?? true;
    this.q = this.registerModule('q', new Linear(dim, dim, { bias }));
    this.k = this.registerModule('k', new Linear(dim, dim, { bias }));
    this.v = this.registerModule('v', new Linear(dim, dim, { bias }));
    this.proj = this.registerModule('proj', new Linear(dim, dim));
  }

  forward(x: Tensor): Tensor {
    return this.attend(x);
  }

  /** forward with attention options: a logits bias (e.g. a relative-position bias) or transform (a window mask). */
  attend(x: Tensor, attention: AttendOptions = {}): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) {
      throw new ShapeError(`Attention: expected input (batch, tokens, ${this.dim}), got ${shapeToString(x.shape)}`);
    }
    // The heads are read in place from the projections' (B, N, dim) outputs (ops/heads.ts): no
    // permute copies for the head split and merge.
    const factor = attention.scale ?? 1 / Math.sqrt(this.headDim);
    const q = attention.scaleQuery ? scale(this.q.call(x), factor) : this.q.call(x);
    let logits = headLogits(q, this.k.call(x), this.numHeads, attention.scaleQuery ? 1 : factor);
    if (attention.bias) logits = add(logits, attention.bias);
    if (attention.logits) logits = attention.logits(logits);
    const weights = dropout(softmax(logits), this.options.attnDrop ?? 0, this.training);
    const v = this.v.call(x);
    const merged = headWeightedSum(weights.dtype === v.dtype || autocastDType() !== null ? weights : weights.to(v.dtype), v, this.numHeads);
    return dropout(this.proj.call(merged), this.options.projDrop ?? 0, this.training);
  }
}
