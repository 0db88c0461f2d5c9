// Raw-kernel test helpers: move typed arrays into NativeBuffers and back, and free them after.
import { afterEach } from 'vitest';
import { addon, type NativeBuffer } from '../../src/native/addon';

const live: NativeBuffer[] = [];

afterEach(() => {
  while (live.length > 0) live.pop()!.free();
});

/** A CPU NativeBuffer holding `values` as float32 (freed after the test). */
export function f32(values: ArrayLike<number>): NativeBuffer {
  const data = Float32Array.from(values);
  const buf = new addon.NativeBuffer(0, data.byteLength);
  addon.kernels.copy_from_host(buf, data, data.byteLength);
  live.push(buf);
  return buf;
}

/** A CPU NativeBuffer holding `values` as int32. */
export function i32(values: ArrayLike<number>): NativeBuffer {
  const data = Int32Array.from(values);
  const buf = new addon.NativeBuffer(0, data.byteLength);
  addon.kernels.copy_from_host(buf, data, data.byteLength);
  live.push(buf);
  return buf;
}

/** A CPU NativeBuffer holding `values` as uint8. */
export function u8(values: ArrayLike<number>): NativeBuffer {
  const data = Uint8Array.from(values);
  const buf = new addon.NativeBuffer(0, Math.max(data.byteLength, 0));
  addon.kernels.copy_from_host(buf, data, data.byteLength);
  live.push(buf);
  return buf;
}

/** An uninitialized (NaN-filled) float32 buffer of n elements. */
export function empty(n: number): NativeBuffer {
  const buf = new addon.NativeBuffer(0, n * 4);
  addon.kernels.fill(buf, 'float32', NaN, n);
  live.push(buf);
  return buf;
}

export function readF32(buf: NativeBuffer, n: number): Float32Array {
  const out = new Float32Array(n);
  addon.kernels.copy_to_host(out, buf, n * 4);
  return out;
}

export function readI32(buf: NativeBuffer, n: number): Int32Array {
  const out = new Int32Array(n);
  addon.kernels.copy_to_host(out, buf, n * 4);
  return out;
}

export function readU8(buf: NativeBuffer, n: number): Uint8Array {
  const out = new Uint8Array(n);
  addon.kernels.copy_to_host(out, buf, n);
  return out;
}

export const kernels = addon.kernels;

export type FloatName = 'float32' | 'bfloat16' | 'float16';
export const FLOAT_DTYPES: readonly FloatName[] = ['float32', 'bfloat16', 'float16'];
/** One unit in the last place at 1.0 of each float dtype: the relative size of one rounding step. */
export const ULP: Readonly<Record<FloatName, number>> = { float32: 2 ** -23, bfloat16: 2 ** -7, float16: 2 ** -10 };

/** A CPU NativeBuffer holding `values` in `dtype` (rounded to nearest even, freed after the test). */
export function typed(values: ArrayLike<number>, dtype: FloatName): NativeBuffer {
  const src = f32(values);
  if (dtype === 'float32') return src;
  const buf = new addon.NativeBuffer(0, Math.max(values.length, 1) * 2);
  addon.kernels.cast(buf, src, dtype, 'float32', values.length);
  live.push(buf);
  return buf;
}

/** An uninitialized (NaN-filled) buffer of n elements of dtype. */
export function emptyOf(n: number, dtype: FloatName): NativeBuffer {
  if (dtype === 'float32') return empty(n);
  const buf = new addon.NativeBuffer(0, Math.max(n, 1) * 2);
  addon.kernels.fill(buf, dtype, NaN, n);
  live.push(buf);
  return buf;
}

/** The n values of a dtype buffer, as float32. */
export function readAs(buf: NativeBuffer, dtype: FloatName, n: number): Float32Array {
  if (dtype === 'float32') return readF32(buf, n);
  const out = empty(n);
  addon.kernels.cast(out, buf, 'float32', dtype, n);
  return readF32(out, n);
}

/** values rounded to dtype (and back to float32): the inputs the kernels see. */
export function roundTo(values: ArrayLike<number>, dtype: FloatName): Float32Array {
  return readAs(typed(values, dtype), dtype, values.length);
}

/** (n, c, hw) -> (n, hw, c): NCHW values laid out channels-last. */
export function toNHWC(x: ArrayLike<number>, n: number, c: number, hw: number): Float32Array {
  const y = new Float32Array(n * c * hw);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let j = 0; j < hw; j++) y[(i * hw + j) * c + ch] = x[(i * c + ch) * hw + j];
  return y;
}

/** (n, hw, c) -> (n, c, hw). */
export function fromNHWC(x: ArrayLike<number>, n: number, c: number, hw: number): Float32Array {
  const y = new Float32Array(n * c * hw);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let j = 0; j < hw; j++) y[(i * c + ch) * hw + j] = x[(i * hw + j) * c + ch];
  return y;
}
