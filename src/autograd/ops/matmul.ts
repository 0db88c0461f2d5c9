// Matrix products (native family: matmul): matmul with batching and linear (x @ W^T + b), each
// one native GEMM call per pass. Backward: dA = dC @ B^T, dB = A^T @ dC (summed over the batch
// when B is shared). Any float dtype, shared by the operands (under autocast they are cast to its
// dtype first: matmul and linear are on PyTorch's lower-precision list); products accumulate in
// float32. channelsLast operands are made contiguous first (the result is contiguous).
import { ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, numelOf, requireSameDevice, shapeToString } from '../../tensor';
import { record } from '../tape';
import { lowPrecisionOperands } from './lowprecision';

function contiguous<T extends Tensor | null>(t: T): T {
  return (t !== null && t.memoryFormat !== 'contiguous' ? t.contiguous() : t) as T;
}

/** C = op(A) @ op(B) for `batch` matrices; strides 0 broadcast. Allocates C. */
function gemm(
  a: Tensor, b: Tensor, outShape: readonly number[], batch: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, strideA: number, strideB: number,
): Tensor {
  const c = Tensor.empty(outShape, { dtype: a.dtype, device: a.device });
  kernels.matmul_batched(c.buffer, a.buffer, b.buffer, a.dtype, batch, m, n, k, transA, transB, 1, 0, strideA, strideB, m * n);
  return c;
}

/**
 * torch.matmul for a (..., m, k) with b (k, n) or b (..., k, n) with the same leading dims.
 * Result (..., m, n).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  ({ a, b } = lowPrecisionOperands('matmul', { a, b }));
  requireSameDevice('matmul', { a, b });
  a = contiguous(a);
  b = contiguous(b);
  const bad = () => new ShapeError(`matmul: cannot multiply ${shapeToString(a.shape)} by ${shapeToString(b.shape)}`);
  if (a.ndim < 2 || b.ndim < 2) throw bad();
  const [m, k] = a.shape.slice(-2);
  const [kb, n] = b.shape.slice(-2);
  if (k !== kb) throw bad();
  const lead = a.shape.slice(0, -2);
  const outShape = [...lead, m, n];
  a.bufferFor('matmul');
  b.bufferFor('matmul');
  if (b.ndim === 2) {
    // (B*m, k) @ (k, n): one GEMM; dB = A^T dC over all rows.
    const rows = numelOf(lead) * m;
    const c = gemm(a, b, outShape, 1, rows, n, k, false, false, 0, 0);
    return record(c, 'matmul', [a, b], (g) => [
      a.requiresGrad ? gemm(g, b, a.shape, 1, rows, k, n, false, true, 0, 0) : null,
      b.requiresGrad ? gemm(a, g, b.shape, 1, k, n, rows, true, false, 0, 0) : null,
    ]);
  }
  const leadB = b.shape.slice(0, -2);
  if (leadB.length !== lead.length || leadB.some((d, i) => d !== lead[i])) throw bad();
  const batch = numelOf(lead);
  const c = gemm(a, b, outShape, batch, m, n, k, false, false, m * k, k * n);
  return record(c, 'matmul', [a, b], (g) => [
    a.requiresGrad ? gemm(g, b, a.shape, batch, m, k, n, false, true, m * n, k * n) : null,
    b.requiresGrad ? gemm(a, g, b.shape, batch, k, n, m, true, false, m * k, m * n) : null,
  ]);
}

/**
 * a @ b^T for a (..., m, k) and b (..., n, k) with the same leading dims (attention's q @ k^T),
 * one batched GEMM with the transpose folded in (no copy of b). Result (..., m, n).
 */
export function matmulNT(a: Tensor, b: Tensor): Tensor {
  ({ a, b } = lowPrecisionOperands('matmulNT', { a, b }));
  requireSameDevice('matmulNT', { a, b });
  a = contiguous(a);
  b = contiguous(b);
  const bad = () => new ShapeError(`matmulNT: cannot multiply ${shapeToString(a.shape)} by the transpose of ${shapeToString(b.shape)}`);
  if (a.ndim < 2 || b.ndim !== a.ndim) throw bad();
  const [m, k] = a.shape.slice(-2);
  const [n, kb] = b.shape.slice(-2);
  const lead = a.shape.slice(0, -2);
  if (k !== kb || b.shape.slice(0, -2).some((d, i) => d !== lead[i])) throw bad();
  a.bufferFor('matmulNT');
  b.bufferFor('matmulNT');
  const batch = numelOf(lead);
  const c = gemm(a, b, [...lead, m, n], batch, m, n, k, false, true, m * k, n * k);
  // dA = dC @ B (m, n)(n, k); dB = dC^T @ A (n, m)(m, k).
  return record(c, 'matmulNT', [a, b], (g) => [
    a.requiresGrad ? gemm(g, b, a.shape, batch, m, k, n, false, false, m * n, n * k) : null,
    b.requiresGrad ? gemm(g, a, b.shape, batch, n, k, m, true, false, m * n, m * k) : null,
  ]);
}

/** torch.nn.functional.linear: x (..., in) @ weight (out, in)^T + bias (out). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  ({ x, weight, bias } = lowPrecisionOperands('linear', { x, weight, bias }));
  requireSameDevice('linear', { x, weight, bias });
  x = contiguous(x);
  if (weight.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new ShapeError(`linear: input ${shapeToString(x.shape)} does not match weight ${shapeToString(weight.shape)}`);
  }
  const [outF, inF] = weight.shape;
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(`linear: bias ${shapeToString(bias.shape)} does not match weight ${shapeToString(weight.shape)}`);
  }
  const rows = x.numel / inF;
  x.bufferFor('linear');
  weight.bufferFor('linear');
  const y = gemm(x, weight, [...x.shape.slice(0, -1), outF], 1, rows, outF, inF, false, true, 0, 0);
  if (bias !== null) kernels.bias_add_forward(y.buffer, y.buffer, bias.bufferFor('linear'), y.dtype, rows, outF, 1);
  return record(y, 'linear', [x, weight, bias], (g) => {
    let db: Tensor | null = null;
    if (bias !== null && bias.requiresGrad) {
      db = Tensor.emptyLike(bias);
      kernels.bias_add_backward(db.buffer, g.buffer, g.dtype, rows, outF, 1);
    }
    return [
      x.requiresGrad ? gemm(g, weight, x.shape, 1, rows, inF, outF, false, false, 0, 0) : null,
      weight.requiresGrad ? gemm(g, x, weight.shape, 1, outF, inF, rows, true, false, 0, 0) : null,
      db,
    ];
  });
}
