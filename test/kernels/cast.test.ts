// The cast kernel against PyTorch (test/fixtures/amp/casts.safetensors): float32 -> bfloat16 and
// float32 -> float16 must give exactly PyTorch's bit patterns (round to nearest, ties to even,
// subnormals, overflow to inf, NaN stays NaN), float16 -> float32 exactly PyTorch's value for
// every one of the 65,536 bit patterns, bfloat16 -> float32 is the exact widening, and
// Tensor.to() / toArray() go through the same kernel. Integer casts truncate toward zero,
// NaN -> 0, clamped to the range.
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { kernels } from '../../src/native/addon';
import { Tensor, scope } from '../../src/index';
import { toFloat32Array, toInt32Array } from '../../src/io/safetensors';
import { FIXTURES, loadFixture } from '../helpers/fixtures';

const fx = loadFixture(path.join(FIXTURES, 'amp', 'casts.safetensors'));
const x = fx.floats('x');
const bits = (name: string) => Uint16Array.from(toInt32Array(fx.entries.get(name)!, name), (v) => v & 0xffff);

/** Runs the cast kernel on host values, returning the raw output bytes. */
function castBytes(values: ArrayBufferView, from: 'float32' | 'bfloat16' | 'float16' | 'int32' | 'uint8', to: typeof from, n: number, outBytes: number): Uint8Array {
  return scope(() => {
    const src = Tensor.empty([values.byteLength], { dtype: 'uint8' });
    kernels.copy_from_host(src.buffer, values, values.byteLength);
    const dst = Tensor.empty([outBytes], { dtype: 'uint8' });
    kernels.cast(dst.buffer, src.buffer, to, from, n);
    return dst.toArray() as Uint8Array;
  });
}

function firstMismatch(a: ArrayLike<number>, e: ArrayLike<number>, input: ArrayLike<number>): string | null {
  for (let i = 0; i < e.length; i++) {
    const same = a[i] === e[i] || (Number.isNaN(a[i]) && Number.isNaN(e[i]));
    if (!same) return `[${i}] input ${input[i]}: got ${a[i]} (0x${a[i].toString(16)}), PyTorch ${e[i]} (0x${e[i].toString(16)})`;
  }
  return null;
}

describe('cast kernel: bit-identical to PyTorch', () => {
  test(`float32 -> bfloat16 (${x.length} values): round to nearest even, as torch .to(torch.bfloat16)`, () => {
    const out = new Uint16Array(castBytes(x, 'float32', 'bfloat16', x.length, 2 * x.length).buffer);
    const expected = bits('bf16_bits');
    // NaN payloads may differ; both must be NaN (exponent all ones, mantissa non-zero).
    const isNan = (b: number) => (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
    const got = Array.from(out, (b) => (isNan(b) ? -1 : b));
    const want = Array.from(expected, (b) => (isNan(b) ? -1 : b));
    expect(firstMismatch(got, want, x)).toBeNull();
  });

  test(`float32 -> float16 (${x.length} values): round to nearest even, subnormals, overflow to inf`, () => {
    const out = new Uint16Array(castBytes(x, 'float32', 'float16', x.length, 2 * x.length).buffer);
    const isNan = (b: number) => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;
    const got = Array.from(out, (b) => (isNan(b) ? -1 : b));
    const want = Array.from(bits('f16_bits'), (b) => (isNan(b) ? -1 : b));
    expect(firstMismatch(got, want, x)).toBeNull();
  });

  test('float16 -> float32 for all 65,536 bit patterns equals torch', () => {
    const patterns = Uint16Array.from({ length: 65536 }, (_, i) => (i - 32768) & 0xffff);
    const out = new Float32Array(castBytes(patterns, 'float16', 'float32', 65536, 4 * 65536).buffer);
    expect(firstMismatch(out, toFloat32Array(fx.entries.get('all_f16_values')!, 'all_f16_values'), patterns)).toBeNull();
  });

  test('bfloat16 -> float32 is the exact widening (bits << 16) for all 65,536 patterns', () => {
    const patterns = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const out = new Uint32Array(castBytes(patterns, 'bfloat16', 'float32', 65536, 4 * 65536).buffer);
    const expected = Uint32Array.from(patterns, (b) => (b << 16) >>> 0);
    expect(firstMismatch(out, expected, patterns)).toBeNull();
  });

  test('float -> int32 / uint8 truncates toward zero, NaN -> 0, clamps; int -> float exact', () => {
    const v = Float32Array.from([1.9, -1.9, 0.5, -0.5, NaN, 1e20, -1e20, 300, -3, 255.99]);
    expect(Array.from(new Int32Array(castBytes(v, 'float32', 'int32', v.length, 4 * v.length).buffer))).toEqual([1, -1, 0, 0, 0, 2147483647, -2147483648, 300, -3, 255]);
    expect(Array.from(castBytes(v, 'float32', 'uint8', v.length, v.length))).toEqual([1, 0, 0, 0, 0, 255, 0, 255, 0, 255]);
    const ints = Int32Array.from([0, -7, 16777217]);
    expect(Array.from(new Float32Array(castBytes(ints, 'int32', 'float32', 3, 12).buffer))).toEqual([0, -7, 16777216]);
  });

  test('Tensor.to(bfloat16) and toArray() round as the kernel does; a float32 gradient flows back', () =>
    scope(() => {
      const t = Tensor.fromArray(x.subarray(0, 64), [64], { requiresGrad: true });
      const b = t.to('bfloat16');
      expect(b.dtype).toBe('bfloat16');
      const expected = Array.from(bits('bf16_bits').subarray(0, 64), (h) => new Float32Array(new Uint32Array([h << 16]).buffer)[0]);
      const got = Array.from(b.toArray());
      expect(firstMismatch(got, expected, x)).toBeNull();
      b.backward(Tensor.ones([64], { dtype: 'bfloat16' }));
      expect(t.grad!.dtype).toBe('float32');
      expect(Array.from(t.grad!.toArray())).toEqual(new Array(64).fill(1));
    }));
});
