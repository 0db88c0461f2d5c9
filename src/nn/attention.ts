// Multi-head self-attention with separate query, key and value projections (timm's Attention, with
// its fused `qkv` split into `q`, `k` and `v`: the paper's eta is per q, k and v). Parameter names
// `q.weight`, `q.bias`, `k.*`, `v.*`, `proj.*`; a checkpoint's `qkv.weight` (3*dim, dim) is split
// on import and re-fused on export by the model's state mapping (src/models/weights.ts).
// x (batch, tokens, dim) -> (batch, tokens, dim). `attend(x, options)` takes the attention
// options of scaledDotProductAttention (a logits bias such as Swin's relative-position bias, a
// logits transform such as its shifted-window mask).
import { ArgumentError, ShapeError } from '../errors';
import { scaledDotProductAttention, type AttentionOptions } from '../autograd/ops/attention';
import { dropout } from '../autograd/ops/activation';
import type { Tensor } from '../tensor';
import { shapeToString } from '../tensor';
import { Linear } from './linear';
import { Module } from './module';

export interface AttentionModuleOptions {
  qkvBias?: boolean;
  attnDrop?: number;
  projDrop?: number;
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

  /** (B, N, dim) -> (B, heads, N, head_dim). */
  private heads(t: Tensor, b: number, n: number): Tensor {
    return t.reshape([b, n, this.numHeads, this.headDim]).permute([0, 2, 1, 3]);
  }

  forward(x: Tensor): Tensor {
    return this.attend(x);
  }

  /** forward with attention options: a logits bias (e.g. a relative-position bias) or transform (a window mask). */
  attend(x: Tensor, attention: Omit<AttentionOptions, 'dropout' | 'training'> = {}): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) {
      throw new ShapeError(`Attention: expected input (batch, tokens, ${this.dim}), got ${shapeToString(x.shape)}`);
    }
    const [b, n] = x.shape;
    const out = scaledDotProductAttention(this.heads(this.q.call(x), b, n), this.heads(this.k.call(x), b, n), this.heads(this.v.call(x), b, n), {
      ...attention, dropout: this.options.attnDrop ?? 0, training: this.training,
    });
    const merged = out.permute([0, 2, 1, 3]).reshape([b, n, this.dim]);
    return dropout(this.proj.call(merged), this.options.projDrop ?? 0, this.training);
  }
}
