// Raw-kernel test helpers for the float dtypes and memory formats: move float values into a
// NativeBuffer of any float dtype (optionally NHWC), read them back as float32 NCHW, and round
// values to a dtype the way the kernels store them (the cast kernel's round-to-nearest-even).
import { afterEach } from 'vitest';
import { addon, type NativeBuffer } from '../../src/native/addon';

export type FloatDType = 'float32' | 'bfloat16' | 'float16';
/** (n, c, h, w) of an image tensor stored NHWC, or null for plain row-major storage. */
export type Nhwc = readonly [number, number, number, number] | null;

const BYTES: Record<FloatDType, number> = { float32: 4, bfloat16: 2, float16: 2 };
const kernels = addon.kernels;
const live: NativeBuffer[] = [];

afterEach(() => {
  while (live.length > 0) live.pop()!.free();
});

function alloc(dtype: FloatDType, n: number): NativeBuffer {
  const buf = new addon.NativeBuffer(0, Math.max(n, 1) * BYTES[dtype]);
  live.push(buf);
  return buf;
}

/** A buffer of `dtype` holding `values` (logical NCHW order), stored NHWC when `nhwc` is given. */
export function upload(values: ArrayLike<number>, dtype: FloatDType, nhwc: Nhwc = null): NativeBuffer {
  const data = Float32Array.from(values);
  let src = alloc('float32', data.length);
  kernels.copy_from_host(src, data, data.byteLength);
  if (nhwc !== null && data.length > 0) {
    const perm = alloc('float32', data.length);
    kernels.permute(perm, src, 'float32', data.length, 4, [...nhwc], [0, 2, 3, 1]);
    src = perm;
  }
  if (dtype === 'float32') return src;
  const out = alloc(dtype, data.length);
  kernels.cast(out, src, dtype, 'float32', data.length);
  return out;
}

/** An output buffer of `dtype` filled with NaN (a kernel that skips an element shows up). */
export function emptyOf(dtype: FloatDType, n: number): NativeBuffer {
  const buf = alloc(dtype, n);
  kernels.fill(buf, dtype, NaN, n);
  return buf;
}

/** The n values of `buf` (of `dtype`, NHWC when `nhwc` is given) as float32 in NCHW order. */
export function download(buf: NativeBuffer, dtype: FloatDType, n: number, nhwc: Nhwc = null): Float32Array {
  let f = buf;
  if (dtype !== 'float32') {
    f = alloc('float32', n);
    kernels.cast(f, buf, 'float32', dtype, n);
  }
  if (nhwc !== null && n > 0) {
    const [b, c, h, w] = nhwc;
    const back = alloc('float32', n);
    kernels.permute(back, f, 'float32', n, 4, [b, h, w, c], [0, 3, 1, 2]);
    f = back;
  }
  const out = new Float32Array(n);
  kernels.copy_to_host(out, f, n * 4);
  return out;
}

/** `values` rounded to `dtype` and back to float (what a kernel reading that dtype sees). */
export function roundTo(values: ArrayLike<number>, dtype: FloatDType): Float32Array {
  return download(upload(values, dtype), dtype, values.length);
}

/** max |v|, at least `floor`: the output scale that low-precision tolerances are relative to. */
export function scaleOf(values: ArrayLike<number>, floor = 1e-30): number {
  let m = floor;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}
