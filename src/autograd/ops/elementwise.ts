// Elementwise ops and their broadcasts (native family: elementwise): add, sub, mul, scale.
// Broadcasting follows PyTorch for the cases layers need: the smaller operand's non-1 dimensions
// must form one contiguous block of the larger one's trailing-aligned shape (a bias over channels,
// a LayerScale vector, a position embedding). Other broadcasts are an error naming both shapes.
import { ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, numelOf, requireFloat, requireSameDevice, shapeToString } from '../../tensor';
import { record } from '../tape';

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

function layoutOrThrow(op: string, a: Tensor, b: Tensor): BroadcastLayout {
  const layout = broadcastLayout(a.shape, b.shape);
  if (layout === null) {
    throw new ShapeError(`${op}: shapes ${shapeToString(a.shape)} and ${shapeToString(b.shape)} cannot be broadcast together`);
  }
  return layout;
}

function checkBinary(op: string, a: Tensor, b: Tensor): void {
  requireFloat(a, op, 'a');
  requireFloat(b, op, 'b');
  requireSameDevice(op, { a, b });
}

/** a + b (b may broadcast into a, or a into b). */
export function add(a: Tensor, b: Tensor): Tensor {
  checkBinary('add', a, b);
  if (sameShape(a.shape, b.shape)) {
    const y = Tensor.empty(a.shape, { device: a.device });
    kernels.add_forward(y.buffer, a.bufferFor('add'), b.bufferFor('add'), 1, 1, y.numel);
    return record(y, 'add', [a, b], (g) => [g, g]);
  }
  if (a.numel < b.numel) return add(b, a);
  const { outer, mid, inner } = layoutOrThrow('add', a, b);
  const y = Tensor.empty(a.shape, { device: a.device });
  kernels.bias_add_forward(y.buffer, a.bufferFor('add'), b.bufferFor('add'), outer, mid, inner);
  return record(y, 'add', [a, b], (g) => {
    let db: Tensor | null = null;
    if (b.requiresGrad) {
      db = Tensor.empty(b.shape, { device: b.device });
      kernels.bias_add_backward(db.buffer, g.buffer, outer, mid, inner);
    }
    return [g, db];
  });
}

/** a - b (same shapes). */
export function sub(a: Tensor, b: Tensor): Tensor {
  checkBinary('sub', a, b);
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(`sub: shapes ${shapeToString(a.shape)} and ${shapeToString(b.shape)} differ`);
  }
  const y = Tensor.empty(a.shape, { device: a.device });
  kernels.add_forward(y.buffer, a.bufferFor('sub'), b.bufferFor('sub'), 1, -1, y.numel);
  return record(y, 'sub', [a, b], (g) => [g, b.requiresGrad ? scaleRaw(g, -1) : null]);
}

function scaleRaw(x: Tensor, alpha: number): Tensor {
  const y = Tensor.empty(x.shape, { device: x.device });
  kernels.scale_forward(y.buffer, x.buffer, alpha, x.numel);
  return y;
}

/** a * b (b may broadcast into a, or a into b). */
export function mul(a: Tensor, b: Tensor): Tensor {
  checkBinary('mul', a, b);
  if (sameShape(a.shape, b.shape)) {
    const y = Tensor.empty(a.shape, { device: a.device });
    kernels.mul_forward(y.buffer, a.bufferFor('mul'), b.bufferFor('mul'), y.numel);
    return record(y, 'mul', [a, b], (g) => {
      const product = (other: Tensor): Tensor => {
        const d = Tensor.empty(g.shape, { device: g.device });
        kernels.mul_forward(d.buffer, g.buffer, other.buffer, g.numel);
        return d;
      };
      return [a.requiresGrad ? product(b) : null, b.requiresGrad ? product(a) : null];
    });
  }
  if (a.numel < b.numel) return mul(b, a);
  const { outer, mid, inner } = layoutOrThrow('mul', a, b);
  const y = Tensor.empty(a.shape, { device: a.device });
  kernels.channel_mul_forward(y.buffer, a.bufferFor('mul'), b.bufferFor('mul'), outer, mid, inner);
  return record(y, 'mul', [a, b], (g) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = Tensor.empty(a.shape, { device: a.device });
      kernels.channel_mul_forward(da.buffer, g.buffer, b.buffer, outer, mid, inner);
    }
    if (b.requiresGrad) {
      db = Tensor.empty(b.shape, { device: b.device });
      kernels.channel_mul_backward_scale(db.buffer, g.buffer, a.buffer, outer, mid, inner);
    }
    return [da, db];
  });
}

/** alpha * x */
export function scale(x: Tensor, alpha: number): Tensor {
  requireFloat(x, 'scale', 'x');
  const y = Tensor.empty(x.shape, { device: x.device });
  kernels.scale_forward(y.buffer, x.bufferFor('scale'), alpha, x.numel);
  return record(y, 'scale', [x], (g) => [scaleRaw(g, alpha)]);
}
