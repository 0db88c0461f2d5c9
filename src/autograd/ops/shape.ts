// Shape ops (native family: copy): reshape and flatten are views sharing memory; permute and clone
// copy. Each records its backward on the tape.
import { ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, convertRaw, numelOf, shapeToString } from '../../tensor';
import { record } from '../tape';

function normalizeDim(dim: number, ndim: number, op: string): number {
  const d = dim < 0 ? dim + ndim : dim;
  if (!Number.isInteger(d) || d < 0 || d >= Math.max(ndim, 1)) {
    throw new ShapeError(`${op}: dimension ${dim} out of range for a tensor of ${ndim} dimensions`);
  }
  return d;
}

/** Resolves one -1 in `shape` against `numel`. */
export function resolveShape(shape: readonly number[], numel: number, op: string, from: readonly number[]): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (unknown >= 0) {
    const known = numelOf(out.filter((_, i) => i !== unknown));
    if (known === 0 || numel % known !== 0) throw new ShapeError(`${op}: cannot reshape ${shapeToString(from)} to ${shapeToString(shape)}`);
    out[unknown] = numel / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numelOf(out) !== numel) {
    throw new ShapeError(`${op}: cannot reshape ${shapeToString(from)} (${numel} elements) to ${shapeToString(shape)}`);
  }
  return out;
}

/** x.reshape(shape): a view of contiguous memory (a channelsLast tensor is made contiguous first, as PyTorch copies). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(shape, x.numel, 'reshape', x.shape);
  if (x.memoryFormat !== 'contiguous') return reshape(x.contiguous(), target);
  const y = x.viewAs(target);
  return record(y, 'reshape', [x], (g) => [g.viewAs(x.shape)]);
}

/** torch.flatten(x, startDim, endDim). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim(startDim, x.ndim, 'flatten');
  const e = normalizeDim(endDim, x.ndim, 'flatten');
  if (s > e) throw new ShapeError(`flatten: start_dim ${startDim} comes after end_dim ${endDim} for shape ${shapeToString(x.shape)}`);
  const shape = [...x.shape.slice(0, s), numelOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

function permuteCopy(x: Tensor, perm: readonly number[]): Tensor {
  if (x.memoryFormat !== 'contiguous') {
    const c = x.contiguous();
    try {
      return permuteCopy(c, perm);
    } finally {
      if (c !== x) c.dispose();
    }
  }
  const y = Tensor.empty(perm.map((p) => x.shape[p]), { dtype: x.dtype, device: x.device });
  kernels.permute(y.buffer, x.bufferFor('permute'), x.dtype, x.numel, x.ndim, x.shape, perm);
  return y;
}

/** x.permute(dims): a contiguous copy with dimensions reordered. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new ShapeError(`permute: ${dims.length} dims given for a tensor of shape ${shapeToString(x.shape)}`);
  }
  const perm = dims.map((d) => normalizeDim(d, x.ndim, 'permute'));
  if (new Set(perm).size !== perm.length) throw new ShapeError(`permute: dims ${shapeToString(dims)} repeat a dimension`);
  const y = permuteCopy(x, perm);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return record(y, 'permute', [x], (g) => [permuteCopy(g, inverse)]);
}

/** x.transpose(d0, d1) as a copy. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const a = normalizeDim(dim0, x.ndim, 'transpose');
  const b = normalizeDim(dim1, x.ndim, 'transpose');
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

/** A copy with its own memory. */
export function clone(x: Tensor): Tensor {
  const y = Tensor.emptyLike(x);
  const bytes = y.buffer.bytes;
  kernels.copy_bytes(y.buffer, x.bufferFor('clone'), bytes);
  return record(y, 'clone', [x], (g) => [g]);
}

function nhwcRaw(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape;
  if (x.memoryFormat === 'channelsLast') return x.reinterpret([n, h, w, c], 'contiguous');
  return permuteCopy(x, [0, 2, 3, 1]);
}

/**
 * An (N, C, H, W) tensor as the contiguous (N, H, W, C) of x.permute(0, 2, 3, 1): no copy for a
 * channelsLast input (its memory already is that tensor), a permute copy for a contiguous one.
 * The gradient comes back in x's format. fromNhwc is the inverse.
 */
export function toNhwc(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`toNhwc: expected an (N, C, H, W) tensor, got ${shapeToString(x.shape)}`);
  const y = nhwcRaw(x);
  const format = x.memoryFormat;
  return record(y, 'to_nhwc', [x], (g) => {
    const gc = g.memoryFormat === 'contiguous' ? g : convertRaw(g, g.dtype, 'contiguous');
    const [n, h, w, c] = gc.shape;
    const view = gc.reinterpret([n, c, h, w], 'channelsLast');
    if (gc !== g) gc.dispose();
    if (format === 'channelsLast') return [view];
    try {
      return [convertRaw(view, view.dtype, 'contiguous')];
    } finally {
      view.dispose();
    }
  });
}

/**
 * A (N, H, W, C) tensor as the (N, C, H, W) of y.permute(0, 3, 1, 2) in the channelsLast format:
 * always free (a contiguous NHWC buffer is a channelsLast NCHW tensor). Convert the result with
 * .contiguous() where an NCHW layout is wanted.
 */
export function fromNhwc(y: Tensor): Tensor {
  if (y.ndim !== 4) throw new ShapeError(`fromNhwc: expected an (N, H, W, C) tensor, got ${shapeToString(y.shape)}`);
  const yc = y.memoryFormat === 'contiguous' ? y : convertRaw(y, y.dtype, 'contiguous');
  const [n, h, w, c] = yc.shape;
  const x = yc.reinterpret([n, c, h, w], 'channelsLast');
  if (yc !== y) yc.dispose();
  return record(x, 'from_nhwc', [y], (g) => [nhwcRaw(g)]);
}
