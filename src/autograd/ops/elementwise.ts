// Elementwise ops and their broadcasts (native family: elementwise): add, sub, mul, scale.
// Broadcasting follows PyTorch for the cases layers need: the smaller operand's non-1 dimensions
// must form one contiguous block of the larger one's trailing-aligned shape (a bias over channels,
// a LayerScale vector, a position embedding). Other broadcasts are an error naming both shapes.
// Operands of different float dtypes are promoted as PyTorch does (to float32 unless both agree);
// a channels-last first operand keeps its format when the other is the same shape or a channel
// vector, and the result takes the first operand's format.
import { ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, numelOf, requireFloat, requireSameDevice, shapeToString, type DType } from '../../tensor';
import { record } from '../tape';
import { cast } from './convert';

export interface BroadcastLayout {
  outer: number;
  mid: number;
  inner: number;
}

/** How `small` broadcasts into `big` as (outer, mid, inner), or null if it does not. */
export function broadcastLayout(big: readonly number[], small: readonly number[]): BroadcastLayout | null {
  if (small.length > big.length) {
    if (small.slice(0, small.length - big.length).some((d) => d !== 1)) return null;
    small = small.slice(small.length - big.length);
  }
  const padded = [...new Array(big.length - small.length).fill(1), ...small];
  let first = -1;
  let last = -1;
  for (let i = 0; i < big.length; i++) {
    if (padded[i] === 1 && big[i] !== 1) continue;
    if (padded[i] !== big[i]) return null;
    if (padded[i] !== 1) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) return { outer: numelOf(big), mid: 1, inner: 1 };
  for (let i = first; i <= last; i++) if (padded[i] !== big[i]) return null;
  return {
    outer: numelOf(big.slice(0, first)),
    mid: numelOf(big.slice(first, last + 1)),
    inner: numelOf(big.slice(last + 1)),
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The (outer, channels, inner) layout of `b` broadcast into `a` in a's memory format. */
function layoutOrThrow(op: string, a: Tensor, b: Tensor): BroadcastLayout {
  const layout = broadcastLayout(a.shape, b.shape);
  if (layout === null) {
    throw new ShapeError(`${op}: shapes ${shapeToString(a.shape)} and ${shapeToString(b.shape)} cannot be broadcast together`);
  }
  if (a.memoryFormat === 'channelsLast') {
    // Only a per-channel vector keeps the NHWC layout: (N*H*W, C, 1).
    const [n, c, h, w] = a.shape;
    if (layout.mid === c && layout.outer === n && layout.inner === h * w) return { outer: n * h * w, mid: c, inner: 1 };
    if (layout.mid === 1) return layout;
    throw new ShapeError(`${op}: broadcasting ${shapeToString(b.shape)} into a channelsLast ${shapeToString(a.shape)} needs contiguous()`);
  }
  return layout;
}

function promote(a: DType, b: DType): DType {
  return a === b ? a : 'float32';
}

/** Checks both operands and returns them in a common dtype (and, for equal shapes, a's format). */
function prepareBinary(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  requireFloat(a, op, 'a');
  requireFloat(b, op, 'b');
  requireSameDevice(op, { a, b });
  const dtype = promote(a.dtype, b.dtype);
  const a2 = cast(a, dtype);
  let b2 = cast(b, dtype);
  if (sameShape(a.shape, b.shape) && b2.memoryFormat !== a2.memoryFormat) b2 = b2.to({ memoryFormat: a2.memoryFormat });
  if (!sameShape(a.shape, b.shape) && b2.memoryFormat !== 'contiguous') b2 = b2.contiguous();
  return [a2, b2];
}

/** a + b (b may broadcast into a, or a into b). */
export function add(a: Tensor, b: Tensor): Tensor {
  if (a.numel < b.numel) return add(b, a);
  [a, b] = prepareBinary('add', a, b);
  if (sameShape(a.shape, b.shape)) {
    const y = Tensor.emptyLike(a);
    kernels.add_forward(y.buffer, a.bufferFor('add'), b.bufferFor('add'), a.dtype, 1, 1, y.numel);
    return record(y, 'add', [a, b], (g) => [g, g]);
  }
  const { outer, mid, inner } = layoutOrThrow('add', a, b);
  const y = Tensor.emptyLike(a);
  kernels.bias_add_forward(y.buffer, a.bufferFor('add'), b.bufferFor('add'), a.dtype, outer, mid, inner);
  return record(y, 'add', [a, b], (g) => {
    let db: Tensor | null = null;
    if (b.requiresGrad) {
      db = Tensor.emptyLike(b);
      kernels.bias_add_backward(db.buffer, g.buffer, g.dtype, outer, mid, inner);
    }
    return [g, db];
  });
}

/** a - b (same shapes). */
export function sub(a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(`sub: shapes ${shapeToString(a.shape)} and ${shapeToString(b.shape)} differ`);
  }
  [a, b] = prepareBinary('sub', a, b);
  const y = Tensor.emptyLike(a);
  kernels.add_forward(y.buffer, a.bufferFor('sub'), b.bufferFor('sub'), a.dtype, 1, -1, y.numel);
  return record(y, 'sub', [a, b], (g) => [g, b.requiresGrad ? scaleRaw(g, -1) : null]);
}

function scaleRaw(x: Tensor, alpha: number): Tensor {
  const y = Tensor.emptyLike(x);
  kernels.scale_forward(y.buffer, x.buffer, x.dtype, alpha, x.numel);
  return y;
}

/** a * b (b may broadcast into a, or a into b). */
export function mul(a: Tensor, b: Tensor): Tensor {
  if (a.numel < b.numel) return mul(b, a);
  [a, b] = prepareBinary('mul', a, b);
  if (sameShape(a.shape, b.shape)) {
    const y = Tensor.emptyLike(a);
    kernels.mul_forward(y.buffer, a.bufferFor('mul'), b.bufferFor('mul'), a.dtype, y.numel);
    return record(y, 'mul', [a, b], (g) => {
      const product = (other: Tensor): Tensor => {
        const d = Tensor.emptyLike(g);
        kernels.mul_forward(d.buffer, g.buffer, other.buffer, g.dtype, g.numel);
        return d;
      };
      return [a.requiresGrad ? product(b) : null, b.requiresGrad ? product(a) : null];
    });
  }
  const { outer, mid, inner } = layoutOrThrow('mul', a, b);
  const y = Tensor.emptyLike(a);
  kernels.channel_mul_forward(y.buffer, a.bufferFor('mul'), b.bufferFor('mul'), a.dtype, outer, mid, inner);
  return record(y, 'mul', [a, b], (g) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = Tensor.emptyLike(a);
      kernels.channel_mul_forward(da.buffer, g.buffer, b.buffer, g.dtype, outer, mid, inner);
    }
    if (b.requiresGrad) {
      db = Tensor.emptyLike(b);
      kernels.channel_mul_backward_scale(db.buffer, g.buffer, a.buffer, g.dtype, outer, mid, inner);
    }
    return [da, db];
  });
}

/** alpha * x */
export function scale(x: Tensor, alpha: number): Tensor {
  requireFloat(x, 'scale', 'x');
  const y = Tensor.emptyLike(x);
  kernels.scale_forward(y.buffer, x.bufferFor('scale'), x.dtype, alpha, x.numel);
  return record(y, 'scale', [x], (g) => [scaleRaw(g, alpha)]);
}
