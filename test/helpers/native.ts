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
