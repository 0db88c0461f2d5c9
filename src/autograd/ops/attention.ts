// Scaled dot-product attention, composed from the matmul and activation kernels as
// torch.nn.functional.scaled_dot_product_attention computes it:
//   softmax(q @ k^T * scale + bias) @ v, with dropout on the attention weights in training.
// q, k, v are (batch, heads, tokens, head_dim); `bias` is added to the logits (batch, heads, n, n)
// and may broadcast (a relative-position table gathered to (heads, n, n)); `logits` lets a caller
// transform them (Swin's shifted-window mask). Under autocast the two products run in the low
// dtype and the softmax in float32, as PyTorch's op lists say.
import { ShapeError } from '../../errors';
import { Tensor, shapeToString } from '../../tensor';
import { dropout, softmax } from './activation';
import { add, scale as scaleOp } from './elementwise';
import { matmul, matmulNT } from './matmul';

export interface AttentionOptions {
  /** Multiplier of q @ k^T (default head_dim^-0.5). */
  scale?: number;
  /** Added to the scaled logits, broadcasting as F.add does. */
  bias?: Tensor | null;
  /** A transform of the scaled, biased logits before the softmax. */
  logits?: (logits: Tensor) => Tensor;
  /** Dropout probability on the attention weights (applied only when training). */
  dropout?: number;
  training?: boolean;
}

export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4 || q.shape[3] !== k.shape[3] || k.shape[2] !== v.shape[2]) {
    throw new ShapeError(`attention: q ${shapeToString(q.shape)}, k ${shapeToString(k.shape)}, v ${shapeToString(v.shape)} must be (batch, heads, tokens, head_dim) with matching sizes`);
  }
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[3]);
  const products = matmulNT(q, k);
  let logits = scale === 1 ? products : scaleOp(products, scale); // 1: the caller scaled q (timm's Swin)
  if (options.bias) logits = add(logits, options.bias);
  if (options.logits) logits = options.logits(logits);
  let weights = softmax(logits);
  if (options.dropout && options.training) weights = dropout(weights, options.dropout, true);
  return matmul(weights.dtype === v.dtype ? weights : weights.to(v.dtype), v);
}
