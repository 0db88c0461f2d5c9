// Concatenation and slicing along one dimension (native family: copy, kernel copy_block): cat,
// narrow and prependToken (a class token in front of a sequence without expanding it). Any float
// dtype (cat and narrow also int32, without gradients). A tensor is seen as (outer, dim, inner)
// around the dimension, so every op is one strided block copy per input. channelsLast 4-D tensors
// are handled in their NHWC memory order (the result stays channelsLast); mixed formats are made
// contiguous first. Inputs of different float dtypes are promoted as PyTorch does (float32 unless
// they agree); casts are recorded, so each input's gradient comes back in its own dtype.
import { ArgumentError, DTypeError, ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, numelOf, requireSameDevice, shapeToString, type DType, type MemoryFormat } from '../../tensor';
import { record } from '../tape';
import { cast } from './convert';

const NHWC = [0, 2, 3, 1]; // physical order of the logical dims of a channelsLast tensor

function normalizeDim(dim: number, ndim: number, op: string): number {
  const d = dim < 0 ? dim + ndim : dim;
  if (!Number.isInteger(d) || d < 0 || d >= ndim) {
    throw new ShapeError(`${op}: dimension ${dim} out of range for a tensor of ${ndim} dimensions`);
  }
  return d;
}

/** (outer, inner) around logical dim `d` of `shape` laid out in `format`. */
function around(shape: readonly number[], d: number, format: MemoryFormat): [number, number] {
  if (format !== 'channelsLast') return [numelOf(shape.slice(0, d)), numelOf(shape.slice(d + 1))];
  const phys = NHWC.map((i) => shape[i]);
  const p = NHWC.indexOf(d);
  return [numelOf(phys.slice(0, p)), numelOf(phys.slice(p + 1))];
}

function blockCopy(dst: Tensor, src: Tensor, outer: number, block: number, srcStride: number, srcOffset: number, dstStride: number, dstOffset: number): void {
  kernels.copy_block(dst.buffer, src.buffer, src.dtype, outer, block, srcStride, srcOffset, dstStride, dstOffset);
}

/** y = x.narrow(dim, start, length) as a copy; backward: zeros with the gradient copied into the block. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const op = 'narrow';
  if (x.ndim === 0) throw new ShapeError(`${op}: cannot narrow a 0-dim tensor`);
  const d = normalizeDim(dim, x.ndim, op);
  const size = x.shape[d];
  if (start < 0) start += size;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > size) {
    throw new ShapeError(`${op}: start ${start} and length ${length} out of range for dimension ${dim} of size ${size} (shape ${shapeToString(x.shape)})`);
  }
  const format = x.memoryFormat;
  const [outer, inner] = around(x.shape, d, format);
  const shape = x.shape.map((s, i) => (i === d ? length : s));
  const y = Tensor.empty(shape, { dtype: x.dtype, device: x.device, memoryFormat: format });
  x.bufferFor(op);
  blockCopy(y, x, outer, length * inner, size * inner, start * inner, length * inner, 0);
  return record(y, op, [x], (g) => {
    const dx = Tensor.zeros(x.shape, { dtype: g.dtype, device: x.device, memoryFormat: format });
    blockCopy(dx, g, outer, length * inner, length * inner, 0, size * inner, start * inner);
    return [dx];
  });
}

function commonDType(op: string, tensors: readonly Tensor[]): DType {
  const dtypes = new Set(tensors.map((t) => t.dtype));
  if ([...dtypes].some((t) => t === 'uint8' || (t === 'int32' && dtypes.size > 1))) {
    throw new DTypeError(`${op}: tensors must share one dtype (float types may mix; int32 only with int32), got ${[...dtypes].join(', ')}`);
  }
  return dtypes.size === 1 ? tensors[0].dtype : 'float32';
}

/** torch.cat(tensors, dim): shapes agree except along `dim`; the gradient of each input is its slice of the output's. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const op = 'cat';
  if (tensors.length === 0) throw new ArgumentError(`${op}: expected a non-empty list of tensors`);
  requireSameDevice(op, Object.fromEntries(tensors.map((t, i) => [`tensors[${i}]`, t])));
  const first = tensors[0];
  if (first.ndim === 0) throw new ShapeError(`${op}: zero-dimensional tensor (at position 0) cannot be concatenated`);
  const d = normalizeDim(dim, first.ndim, op);
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new ShapeError(`${op}: sizes of tensors must match except in dimension ${dim}: tensors[0] is ${shapeToString(first.shape)}, tensors[${i}] is ${shapeToString(t.shape)}`);
    }
  });
  const dtype = commonDType(op, tensors);
  const format: MemoryFormat = tensors.every((t) => t.memoryFormat === 'channelsLast') ? 'channelsLast' : 'contiguous';
  const inputs = tensors.map((t) => {
    const c = t.dtype === dtype ? t : cast(t, dtype);
    return c.memoryFormat === format ? c : c.contiguous();
  });
  const sizes = inputs.map((t) => t.shape[d]);
  const total = sizes.reduce((a, b) => a + b, 0);
  const shape = first.shape.map((s, i) => (i === d ? total : s));
  const [outer, inner] = around(shape, d, format);
  const y = Tensor.empty(shape, { dtype, device: first.device, memoryFormat: format });
  const offsets: number[] = [];
  let offset = 0;
  inputs.forEach((t, i) => {
    t.bufferFor(op);
    offsets.push(offset);
    blockCopy(y, t, outer, sizes[i] * inner, sizes[i] * inner, 0, total * inner, offset * inner);
    offset += sizes[i];
  });
  return record(y, op, inputs, (g) =>
    inputs.map((t, i) => {
      if (!t.requiresGrad) return null;
      const dt = Tensor.empty(t.shape, { dtype: g.dtype, device: g.device, memoryFormat: format });
      blockCopy(dt, g, outer, sizes[i] * inner, total * inner, offsets[i] * inner, sizes[i] * inner, 0);
      return dt;
    }),
  );
}

/**
 * torch.cat([token.expand(N, 1, D), x], 1) without the expand: token (1, 1, D) (a class token
 * parameter), x (N, L, D) -> (N, L + 1, D). The token's gradient sums the N rows of position 0.
 */
export function prependToken(token: Tensor, x: Tensor): Tensor {
  const op = 'prependToken';
  requireSameDevice(op, { token, x });
  if (x.ndim !== 3 || token.ndim !== 3 || token.shape[0] !== 1 || token.shape[1] !== 1 || token.shape[2] !== x.shape[2]) {
    throw new ShapeError(`${op}: expected token (1, 1, D) and x (N, L, D), got token ${shapeToString(token.shape)} and x ${shapeToString(x.shape)}`);
  }
  const dtype = commonDType(op, [x, token]);
  if (dtype === 'int32') throw new DTypeError(`${op}: expected float tensors, got int32`);
  const xc = (x.dtype === dtype ? x : cast(x, dtype)).contiguous();
  const tc = token.dtype === dtype ? token : cast(token, dtype);
  const [n, l, dm] = x.shape;
  const y = Tensor.empty([n, l + 1, dm], { dtype, device: x.device });
  tc.bufferFor(op);
  xc.bufferFor(op);
  blockCopy(y, tc, n, dm, 0, 0, (l + 1) * dm, 0); // the token into position 0 of every row
  blockCopy(y, xc, n, l * dm, l * dm, 0, (l + 1) * dm, dm);
  return record(y, op, [tc, xc], (g) => {
    let dtoken: Tensor | null = null;
    if (tc.requiresGrad) {
      dtoken = Tensor.empty(tc.shape, { dtype: g.dtype, device: g.device });
      // position 0 of each of the n rows: (outer n, channels dm, inner 1) with row stride (l + 1) * dm
      const rows = Tensor.empty([n, dm], { dtype: g.dtype, device: g.device });
      blockCopy(rows, g, n, dm, (l + 1) * dm, 0, dm, 0);
      kernels.bias_add_backward(dtoken.buffer, rows.buffer, g.dtype, n, dm, 1);
      rows.dispose();
    }
    let dx: Tensor | null = null;
    if (xc.requiresGrad) {
      dx = Tensor.empty(xc.shape, { dtype: g.dtype, device: g.device });
      blockCopy(dx, g, n, l * dm, (l + 1) * dm, dm, l * dm, 0);
    }
    return [dtoken, dx];
  });
}
