// Swin Transformer's window ops (native family: window), as timm's swin_transformer.py:
//   windowPartition(x, ws, shift)     torch.roll(x, (-shift, -shift), (1, 2)) then window_partition,
//                                     (B, H, W, C) -> (B * nW, ws*ws, C)
//   windowReverse(win, ws, H, W, shift) window_reverse then torch.roll by (+shift, +shift): the inverse
//   relativePositionBias(table, index, n) WindowAttention._get_rel_pos_bias without the leading 1:
//                                     (num_rel, heads) gathered to (heads, n, n)
//   windowMaskAdd(attn, mask)         attn (B * nW, heads, n, n) + mask (nW, n, n) per window
// and the host-side buffers: relativePositionIndex(ws) (get_relative_position_index) and
// shiftedWindowMask(H, W, ws, shift) (SwinTransformerBlock.get_attn_mask, 0 / -100).
// Partition and reverse move elements only: any dtype, exact, gradients in the input's dtype. The
// bias table is float32 (a parameter of another float dtype is cast, recorded); the bias comes out
// in `dtype` (default float32). Tensors are contiguous (B, H, W, C) token maps, not NCHW images.
import { ArgumentError, ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, requireContiguous, requireFloat, requireFloat32, requireSameDevice, shapeToString, type FloatDType } from '../../tensor';
import { record } from '../tape';
import { cast } from './convert';

function requireInt(op: string, name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new ArgumentError(`${op}: ${name} must be an integer >= ${min}, got ${v}`);
}

function requireMultiples(op: string, h: number, w: number, ws: number, what: string): void {
  if (h % ws !== 0 || w % ws !== 0) {
    throw new ShapeError(`${op}: H=${h} and W=${w} of ${what} must be multiples of window_size ${ws} (pad the token map first)`);
  }
}

/** torch.roll(x, (-shift, -shift), (1, 2)) fused with timm's window_partition: (B, H, W, C) -> (B * nW, ws*ws, C). */
export function windowPartition(x: Tensor, windowSize: number, shift = 0): Tensor {
  const op = 'window_partition';
  requireInt(op, 'window_size', windowSize, 1);
  requireInt(op, 'shift', shift, Number.MIN_SAFE_INTEGER);
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected input (B, H, W, C), got ${shapeToString(x.shape)}`);
  requireContiguous(x, op, 'input');
  const [b, h, w, c] = x.shape;
  requireMultiples(op, h, w, windowSize, `input ${shapeToString(x.shape)}`);
  const nW = (h / windowSize) * (w / windowSize);
  const args = [x.dtype, b, h, w, c, windowSize, shift] as const;
  const y = Tensor.empty([b * nW, windowSize * windowSize, c], { dtype: x.dtype, device: x.device });
  kernels.window_partition_forward(y.buffer, x.bufferFor(op), ...args);
  return record(y, op, [x], (g) => {
    const dx = Tensor.emptyLike(x);
    kernels.window_reverse_forward(dx.buffer, g.buffer, ...args); // the inverse permutation
    return [dx];
  });
}

/** timm's window_reverse then torch.roll(., (shift, shift), (1, 2)): (B * nW, ws*ws, C) (or (B * nW, ws, ws, C)) -> (B, H, W, C). */
export function windowReverse(windows: Tensor, windowSize: number, h: number, w: number, shift = 0): Tensor {
  const op = 'window_reverse';
  requireInt(op, 'window_size', windowSize, 1);
  requireInt(op, 'H', h, 0);
  requireInt(op, 'W', w, 0);
  requireInt(op, 'shift', shift, Number.MIN_SAFE_INTEGER);
  requireContiguous(windows, op, 'windows');
  requireMultiples(op, h, w, windowSize, 'the output');
  const nW = (h / windowSize) * (w / windowSize);
  const s = windows.shape;
  const tokensOk = (s.length === 3 && s[1] === windowSize * windowSize) || (s.length === 4 && s[1] === windowSize && s[2] === windowSize);
  if (!tokensOk || (nW > 0 && s[0] % nW !== 0)) {
    throw new ShapeError(`${op}: expected windows (B * ${nW}, ${windowSize * windowSize}, C) for H=${h}, W=${w}, window_size ${windowSize}, got ${shapeToString(s)}`);
  }
  const c = s[s.length - 1];
  const b = nW > 0 ? s[0] / nW : 0;
  const args = [windows.dtype, b, h, w, c, windowSize, shift] as const;
  const y = Tensor.empty([b, h, w, c], { dtype: windows.dtype, device: windows.device });
  kernels.window_reverse_forward(y.buffer, windows.bufferFor(op), ...args);
  return record(y, op, [windows], (g) => {
    const dx = Tensor.emptyLike(windows);
    kernels.window_partition_forward(dx.buffer, g.buffer, ...args); // the inverse permutation
    return [dx];
  });
}

export interface RelativePositionBiasOptions {
  /** The bias's dtype (default float32; the attention logits' dtype under autocast). */
  dtype?: FloatDType;
}

/**
 * table[index.view(-1)].view(n, n, heads).permute(2, 0, 1): the relative position bias
 * (heads, n, n) of WindowAttention from its table (num_rel, heads) and the int32 index (n*n).
 */
export function relativePositionBias(table: Tensor, index: Tensor, n: number, options: RelativePositionBiasOptions = {}): Tensor {
  const op = 'relative_position_bias';
  requireFloat(table, op, 'table');
  requireInt(op, 'n', n, 0);
  requireSameDevice(op, { table, index });
  if (index.dtype !== 'int32') throw new ArgumentError(`${op}: index must be int32, got ${index.dtype} of shape ${shapeToString(index.shape)}`);
  if (index.numel !== n * n) throw new ShapeError(`${op}: index ${shapeToString(index.shape)} must hold n*n = ${n * n} entries for n=${n}`);
  if (table.ndim !== 2) throw new ShapeError(`${op}: expected table (num_rel, heads), got ${shapeToString(table.shape)}`);
  const dtype = options.dtype ?? 'float32';
  const [numRel, heads] = table.shape;
  const t32 = table.dtype === 'float32' ? table : cast(table, 'float32');
  const y = Tensor.empty([heads, n, n], { dtype, device: table.device });
  kernels.relative_position_bias_forward(y.buffer, t32.bufferFor(op), index.bufferFor(op), dtype, heads, n, numRel);
  return record(y, op, [t32], (g) => {
    const dtable = Tensor.empty([numRel, heads], { device: table.device });
    kernels.relative_position_bias_backward(dtable.buffer, g.buffer, index.buffer, g.dtype, heads, n, numRel);
    return [dtable];
  });
}

/**
 * attn (B * nW, heads, n, n) + mask (nW, n, n), the mask broadcast over the batch and the heads
 * (timm: attn.view(-1, nW, heads, N, N) + mask.unsqueeze(1).unsqueeze(0)); in attn's dtype, the
 * sum taken in float. The mask is a constant (float32): only attn gets a gradient (the identity).
 */
export function windowMaskAdd(attn: Tensor, mask: Tensor): Tensor {
  const op = 'window_mask_add';
  requireFloat(attn, op, 'attn');
  requireFloat32(mask, op, 'mask');
  requireSameDevice(op, { attn, mask });
  requireContiguous(attn, op, 'attn');
  const [bw, heads, n, n2] = attn.shape;
  const [nW, m1, m2] = mask.shape;
  if (attn.ndim !== 4 || mask.ndim !== 3 || n !== n2 || m1 !== n || m2 !== n || nW < 1 || bw % nW !== 0) {
    throw new ShapeError(`${op}: expected attn (B * nW, heads, n, n) and mask (nW, n, n), got ${shapeToString(attn.shape)} and ${shapeToString(mask.shape)}`);
  }
  const y = Tensor.emptyLike(attn);
  kernels.window_mask_add_forward(y.buffer, attn.bufferFor(op), mask.bufferFor(op), attn.dtype, bw / nW, nW, heads, n);
  return record(y, op, [attn], (g) => [g]);
}

/** timm's get_relative_position_index(ws, ws) flattened: (ws*ws)^2 indices into a (2ws-1)^2-row table. */
export function relativePositionIndex(windowSize: number): Int32Array {
  requireInt('relative_position_index', 'window_size', windowSize, 1);
  const n = windowSize * windowSize;
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    const [hi, wi] = [Math.floor(i / windowSize), i % windowSize];
    for (let j = 0; j < n; j++) {
      const [hj, wj] = [Math.floor(j / windowSize), j % windowSize];
      out[i * n + j] = (hi - hj + windowSize - 1) * (2 * windowSize - 1) + (wi - wj + windowSize - 1);
    }
  }
  return out;
}

/** relativePositionIndex(ws) as an int32 tensor (ws*ws, ws*ws): WindowAttention's non-persistent buffer. */
export function relativePositionIndexTensor(windowSize: number): Tensor {
  const n = windowSize * windowSize;
  return Tensor.fromArray(relativePositionIndex(windowSize), [n, n], { dtype: 'int32' });
}

/**
 * SwinTransformerBlock.get_attn_mask for an H x W token map: (nW, n, n) float32 values 0 where two
 * tokens of a window come from the same region of the shifted map, -100 where not. H and W are
 * rounded up to multiples of ws as timm does; shift 0 (timm: no mask) gives all zeros. Host values
 * (Float32Array); shiftedWindowMask returns them as a tensor.
 */
export function shiftedWindowMaskArray(h: number, w: number, windowSize: number, shift: number): Float32Array {
  const op = 'shifted_window_mask';
  requireInt(op, 'window_size', windowSize, 1);
  requireInt(op, 'H', h, 1);
  requireInt(op, 'W', w, 1);
  requireInt(op, 'shift', shift, 0);
  if (shift >= windowSize) throw new ArgumentError(`${op}: shift ${shift} must be below window_size ${windowSize}`);
  const hp = Math.ceil(h / windowSize) * windowSize;
  const wp = Math.ceil(w / windowSize) * windowSize;
  // Region of a row / column: timm's slices (0, -ws), (-ws, -shift), (-shift, None); shift 0 leaves one region.
  const region = (i: number, size: number): number => (shift === 0 ? 0 : i < size - windowSize ? 0 : i < size - shift ? 1 : 2);
  const n = windowSize * windowSize;
  const [nh, nw] = [hp / windowSize, wp / windowSize];
  const out = new Float32Array(nh * nw * n * n);
  const ids = new Int32Array(n);
  for (let wh = 0; wh < nh; wh++) {
    for (let ww = 0; ww < nw; ww++) {
      for (let t = 0; t < n; t++) {
        ids[t] = 3 * region(wh * windowSize + Math.floor(t / windowSize), hp) + region(ww * windowSize + (t % windowSize), wp);
      }
      const base = (wh * nw + ww) * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[base + i * n + j] = ids[i] === ids[j] ? 0 : -100;
    }
  }
  return out;
}

export function shiftedWindowMask(h: number, w: number, windowSize: number, shift: number): Tensor {
  const values = shiftedWindowMaskArray(h, w, windowSize, shift);
  const n = windowSize * windowSize;
  return Tensor.fromArray(values, [values.length / (n * n), n, n]);
}
