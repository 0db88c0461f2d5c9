// Attention products on heads read in place (native kernel matmul_strided): q, k, v stay in the
// (batch, tokens, heads * head_dim) layout their projections write, and head h of batch b is the
// (tokens, head_dim) block at column h * head_dim with row stride heads * head_dim. No permute
// copies for the head split and merge.
//   headLogits(q, k, heads, scale)   (B, N, D) x (B, N, D) -> (B, H, N, N) = scale * q_h @ k_h^T
//   headWeightedSum(w, v, heads)     (B, H, N, N) x (B, N, D) -> (B, N, D), head h's columns = w_h @ v_h
// Both are on autocast's lower-precision list (like matmul); gradients come back in the same layouts.
import { ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, requireSameDevice, shapeToString } from '../../tensor';
import { record } from '../tape';
import { lowPrecisionOperands } from './lowprecision';

interface Heads {
  b: number;
  n: number;
  d: number;
  h: number;
  dh: number;
}

function tokens(op: string, x: Tensor, heads: number): Heads {
  if (x.ndim !== 3 || !Number.isInteger(heads) || heads < 1 || x.shape[2] % heads !== 0) {
    throw new ShapeError(`${op}: expected (batch, tokens, heads * head_dim) with ${heads} heads, got ${shapeToString(x.shape)}`);
  }
  const [b, n, d] = x.shape;
  return { b, n, d, h: heads, dh: d / heads };
}

type Layout = { outer: number; inner: number; ld: number };
/** Head blocks of a (B, N, D) tensor: batch stride N*D, head stride dh, rows D apart. */
const headsOf = (s: Heads): Layout => ({ outer: s.n * s.d, inner: s.dh, ld: s.d });
/** Dense (B, H, N, N) attention matrices. */
const squares = (s: Heads): Layout => ({ outer: s.h * s.n * s.n, inner: s.n * s.n, ld: s.n });

/** C = alpha * op(A) @ op(B) over (B, H), each operand in its layout. */
function strided(
  out: Tensor, a: Tensor, la: Layout, ta: boolean, b: Tensor, lb: Layout, tb: boolean, lc: Layout,
  s: Heads, m: number, n: number, k: number, alpha: number,
): Tensor {
  kernels.matmul_strided(out.buffer, a.buffer, b.buffer, out.dtype, s.b, s.h, m, n, k, ta, tb, alpha, 0,
    la.outer, la.inner, la.ld, lb.outer, lb.inner, lb.ld, lc.outer, lc.inner, lc.ld);
  return out;
}

export function headLogits(q: Tensor, k: Tensor, heads: number, scale = 1): Tensor {
  ({ q, k } = lowPrecisionOperands('headLogits', { q, k }));
  requireSameDevice('headLogits', { q, k });
  q = q.contiguous();
  k = k.contiguous();
  const s = tokens('headLogits', q, heads);
  if (k.shape.some((d, i) => d !== q.shape[i])) throw new ShapeError(`headLogits: q ${shapeToString(q.shape)} and k ${shapeToString(k.shape)} differ`);
  q.bufferFor('headLogits');
  k.bufferFor('headLogits');
  const hq = headsOf(s);
  const sq = squares(s);
  const y = strided(Tensor.empty([s.b, s.h, s.n, s.n], { dtype: q.dtype, device: q.device }), q, hq, false, k, hq, true, sq, s, s.n, s.n, s.dh, scale);
  return record(y, 'headLogits', [q, k], (g) => [
    // dq_h = scale * g_h @ k_h; dk_h = scale * g_h^T @ q_h
    q.requiresGrad ? strided(Tensor.emptyLike(q), g, sq, false, k, hq, false, hq, s, s.n, s.dh, s.n, scale) : null,
    k.requiresGrad ? strided(Tensor.emptyLike(k), g, sq, true, q, hq, false, hq, s, s.n, s.dh, s.n, scale) : null,
  ]);
}

export function headWeightedSum(w: Tensor, v: Tensor, heads: number): Tensor {
  ({ w, v } = lowPrecisionOperands('headWeightedSum', { w, v }));
  requireSameDevice('headWeightedSum', { w, v });
  w = w.contiguous();
  v = v.contiguous();
  const s = tokens('headWeightedSum', v, heads);
  if (w.ndim !== 4 || w.shape[0] !== s.b || w.shape[1] !== s.h || w.shape[2] !== s.n || w.shape[3] !== s.n) {
    throw new ShapeError(`headWeightedSum: weights ${shapeToString(w.shape)} do not match v ${shapeToString(v.shape)} with ${heads} heads`);
  }
  w.bufferFor('headWeightedSum');
  v.bufferFor('headWeightedSum');
  const hv = headsOf(s);
  const sw = squares(s);
  const y = strided(Tensor.emptyLike(v), w, sw, false, v, hv, false, hv, s, s.n, s.dh, s.n, 1);
  return record(y, 'headWeightedSum', [w, v], (g) => [
    // dw_h = g_h @ v_h^T; dv_h = w_h^T @ g_h
    w.requiresGrad ? strided(Tensor.emptyLike(w), g, hv, false, v, hv, true, sw, s, s.n, s.n, s.dh, 1) : null,
    v.requiresGrad ? strided(Tensor.emptyLike(v), w, sw, true, g, hv, false, hv, s, s.n, s.dh, s.n, 1) : null,
  ]);
}
