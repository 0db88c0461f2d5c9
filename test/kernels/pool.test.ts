// Pooling kernels (native/cpu/pool.cc) against the float64 references of test/reference/pool.ts:
// max pooling (values, argmax indices, first-max rule on ties, NaN), average pooling with and
// without count_include_pad, ceil_mode-sized outputs, global average pooling, empty batches and
// argument errors. Every kernel runs in float32, bfloat16 and float16 (inputs rounded to the dtype
// first; results carry one rounding to the dtype, ULP[dtype] relative, on top of the float32
// tolerance) and in NCHW and channels-last NHWC (same references, and NHWC equal to NCHW).
// Backward references are checked once against central finite differences.
import { describe, expect, test } from 'vitest';
import { NativeError } from '../../src/errors';
import { expectClose } from '../helpers/compare';
import { FLOAT_DTYPES, ULP, empty, emptyOf, f32, fromNHWC, i32, kernels, readAs, readF32, readI32, roundTo, toNHWC, typed, type FloatName } from '../helpers/native';
import type { Tolerance } from '../helpers/compare';
import { randint, randn } from '../helpers/random';
import { dot, numericGradient } from '../reference/finite-difference';
import * as ref from '../reference/pool';

const rand = (n: number, seed: number): Float32Array => Float32Array.from(randn(n, seed));
const EXACT = { atol: 0, rtol: 0 };
// Average pooling: a float32 sum of at most 9 values, divided once: a few ulp.
const AVG = { atol: 1e-6, rtol: 1e-5 };
// float16 results below 2^-14 are subnormal: their rounding step is absolute, 2^-24.
const inDtype = (tol: Tolerance, dtype: FloatName): Tolerance => ({ atol: tol.atol + (dtype === 'float16' ? 2 ** -24 : 0), rtol: tol.rtol + ULP[dtype] });
// (dtype, channels_last) combinations every window runs in.
const MODES: [FloatName, boolean][] = FLOAT_DTYPES.flatMap((d) => [[d, false], [d, true]] as [FloatName, boolean][]);
const modeName = (dtype: FloatName, cl: boolean): string => `${dtype}${cl ? ' channels_last' : ''}`;
// NCHW values <-> the tested layout; hw is in or out plane size.
const toLayout = (v: ArrayLike<number>, s: ref.Pool2dShape, hw: number, cl: boolean) => (cl ? toNHWC(v, s.batch, s.channels, hw) : Float32Array.from(v));
const fromLayout = (v: ArrayLike<number>, s: ref.Pool2dShape, hw: number, cl: boolean) => (cl ? fromNHWC(v, s.batch, s.channels, hw) : Float32Array.from(v));

const windows: [string, ref.Pool2dShape][] = [
  ['k=2 s=2 batch=2 c=3 8x8', ref.pool2dShape({ batch: 2, channels: 3, inH: 8, inW: 8, kernel: [2, 2] })],
  ['k=3 s=2 p=1 batch=2 c=3 9x7', ref.pool2dShape({ batch: 2, channels: 3, inH: 9, inW: 7, kernel: [3, 3], stride: [2, 2], pad: [1, 1] })],
  ['k=3 s=1 p=1 batch=1 c=4 5x6', ref.pool2dShape({ batch: 1, channels: 4, inH: 5, inW: 6, kernel: [3, 3], stride: [1, 1], pad: [1, 1] })],
  ['non-square k=3x2 s=2x1 p=1x0 batch=2 c=2 7x5', ref.pool2dShape({ batch: 2, channels: 2, inH: 7, inW: 5, kernel: [3, 2], stride: [2, 1], pad: [1, 0] })],
  ['ceil_mode k=3 s=2 batch=2 c=2 6x8', ref.pool2dShape({ batch: 2, channels: 2, inH: 6, inW: 8, kernel: [3, 3], stride: [2, 2], ceilMode: true })],
  ['ceil_mode k=3 s=2 p=1 batch=1 c=3 8x6', ref.pool2dShape({ batch: 1, channels: 3, inH: 8, inW: 6, kernel: [3, 3], stride: [2, 2], pad: [1, 1], ceilMode: true })],
  ['k=2 s=2 large batch=16 c=32 28x28 (parallel planes)', ref.pool2dShape({ batch: 16, channels: 32, inH: 28, inW: 28, kernel: [2, 2] })],
];

/** Max pooling of NCHW values x in dtype and layout; y and indices returned in NCHW order. */
function maxpool(x: ArrayLike<number>, s: ref.Pool2dShape, dtype: FloatName = 'float32', cl = false): { y: Float32Array; indices: Int32Array } {
  const [hwIn, hwOut] = [s.inH * s.inW, s.outH * s.outW];
  const n = s.batch * s.channels * hwOut;
  const y = emptyOf(n, dtype);
  const indices = i32(new Int32Array(n).fill(-7));
  (kernels.maxpool2d_forward as unknown as (...a: unknown[]) => void)(y, indices, typed(toLayout(x, s, hwIn, cl), dtype), dtype, ...ref.pool2dArgs(s), cl);
  return { y: fromLayout(readAs(y, dtype, n), s, hwOut, cl), indices: Int32Array.from(fromLayout(readI32(indices, n), s, hwOut, cl)) };
}

function checkMaxpool(x0: Float32Array, s: ref.Pool2dShape, seed: number, dtype: FloatName = 'float32', cl = false): void {
  const x = roundTo(x0, dtype);
  const got = maxpool(x, s, dtype, cl);
  const want = ref.maxpool2dForward(x, s);
  expectClose(got.y, want.y, EXACT, 'y'); // the max of dtype values is a dtype value: exact
  expectClose(got.indices, want.indices, EXACT, 'indices');
  const [hwIn, hwOut] = [s.inH * s.inW, s.outH * s.outW];
  const nIn = s.batch * s.channels * hwIn;
  const dy = roundTo(rand(got.y.length, seed), dtype);
  const dx = emptyOf(nIn, dtype);
  const idx = i32(toLayout(got.indices, s, hwOut, cl));
  kernels.maxpool2d_backward(dx, typed(toLayout(dy, s, hwOut, cl), dtype), idx, dtype, s.batch, s.channels, s.inH, s.inW, s.outH, s.outW, cl);
  // float32 sums of the gradients routed to one position: overlapping windows add a few values.
  expectClose(fromLayout(readAs(dx, dtype, nIn), s, hwIn, cl), ref.maxpool2dBackward(dy, want.indices, s), inDtype({ atol: 1e-6, rtol: 1e-6 }, dtype), 'dx');
}

describe('maxpool2d', () => {
  for (const [dtype, cl] of MODES) {
    windows.forEach(([name, s], i) => {
      test(`maxpool2d forward/backward ${modeName(dtype, cl)} ${name}`, () => checkMaxpool(rand(s.batch * s.channels * s.inH * s.inW, 10 + i), s, 50 + i, dtype, cl));
    });
  }
  test('maxpool2d channels_last with 150 channels (several channel blocks) equals NCHW', () => {
    const s = ref.pool2dShape({ batch: 2, channels: 150, inH: 7, inW: 6, kernel: [3, 3], stride: [2, 2], pad: [1, 1] });
    const x = roundTo(rand(s.batch * s.channels * s.inH * s.inW, 77), 'bfloat16');
    const [a, b] = [maxpool(x, s, 'bfloat16', false), maxpool(x, s, 'bfloat16', true)];
    expectClose(b.y, a.y, EXACT, 'y');
    expectClose(b.indices, a.indices, EXACT, 'indices');
  });
  test('maxpool2d NaN wins its window in channels_last float16', () => {
    const s = ref.pool2dShape({ batch: 1, channels: 3, inH: 4, inW: 4, kernel: [2, 2] });
    const x = rand(48, 9);
    x[16 + 5] = NaN; // channel 1, position 5
    const got = maxpool(x, s, 'float16', true);
    expect(Number.isNaN(got.y[4])).toBe(true);
    expect(got.indices[4]).toBe(5);
  });
  test('maxpool2d ties pick the first maximum k=3 s=1 p=1 (integer inputs in 0..2)', () => {
    const s = ref.pool2dShape({ batch: 2, channels: 2, inH: 6, inW: 5, kernel: [3, 3], stride: [1, 1], pad: [1, 1] });
    checkMaxpool(Float32Array.from(randint(s.batch * s.channels * s.inH * s.inW, 3, 5)), s, 6);
  });
  test('maxpool2d all-equal negative plane k=2 s=2 p=1 (index of the first in-bounds element)', () => {
    const s = ref.pool2dShape({ batch: 1, channels: 1, inH: 4, inW: 4, kernel: [2, 2], stride: [2, 2], pad: [1, 1] });
    checkMaxpool(new Float32Array(16).fill(-3), s, 7);
  });
  test('maxpool2d NaN wins its window k=2 s=2', () => {
    const s = ref.pool2dShape({ batch: 1, channels: 1, inH: 4, inW: 4, kernel: [2, 2] });
    const x = rand(16, 8);
    x[5] = NaN;
    const got = maxpool(x, s);
    expect(Number.isNaN(got.y[0])).toBe(true);
    expect(got.indices[0]).toBe(5);
    expectClose(got.indices, ref.maxpool2dForward(x, s).indices, EXACT);
  });
  test('maxpool2d batch=0 is a no-op', () => {
    const s = ref.pool2dShape({ batch: 0, channels: 3, inH: 4, inW: 4, kernel: [2, 2] });
    expect(maxpool(new Float32Array(0), s).y.length).toBe(0);
    kernels.maxpool2d_backward(empty(0), empty(0), i32([]), 'float32', 0, 3, 4, 4, 2, 2, false);
  });
});

describe('avgpool2d', () => {
  for (const [dtype, cl] of MODES) {
    for (const countIncludePad of [true, false]) {
      windows.forEach(([name, s], i) => {
        test(`avgpool2d forward/backward ${modeName(dtype, cl)} ${name} count_include_pad=${countIncludePad}`, () => {
          const [hwIn, hwOut] = [s.inH * s.inW, s.outH * s.outW];
          const nIn = s.batch * s.channels * hwIn;
          const nOut = s.batch * s.channels * hwOut;
          const x = roundTo(rand(nIn, 20 + i), dtype);
          const y = emptyOf(nOut, dtype);
          const call = kernels.avgpool2d_forward as unknown as (...a: unknown[]) => void;
          call(y, typed(toLayout(x, s, hwIn, cl), dtype), dtype, ...ref.pool2dArgs(s), countIncludePad, cl);
          expectClose(fromLayout(readAs(y, dtype, nOut), s, hwOut, cl), ref.avgpool2dForward(x, s, countIncludePad), inDtype(AVG, dtype), 'y');
          const dy = roundTo(rand(nOut, 30 + i), dtype);
          const dx = emptyOf(nIn, dtype);
          const back = kernels.avgpool2d_backward as unknown as (...a: unknown[]) => void;
          back(dx, typed(toLayout(dy, s, hwOut, cl), dtype), dtype, ...ref.pool2dArgs(s), countIncludePad, cl);
          expectClose(fromLayout(readAs(dx, dtype, nIn), s, hwIn, cl), ref.avgpool2dBackward(dy, s, countIncludePad), inDtype(AVG, dtype), 'dx');
        });
      });
    }
  }
});

describe('global_avgpool', () => {
  for (const [dtype, cl] of MODES) {
    for (const [batch, channels, hw] of [[3, 5, 49], [2, 4, 1], [4, 64, 3136], [2, 150, 9], [0, 3, 7]]) {
      // A mean of up to 3136 values, summed in double: ~1 ulp of float32, then one dtype rounding.
      test(`global_avgpool forward/backward ${modeName(dtype, cl)} batch=${batch} channels=${channels} hw=${hw}`, () => {
        const x = roundTo(rand(batch * channels * hw, hw), dtype);
        const y = emptyOf(batch * channels, dtype);
        kernels.global_avgpool_forward(y, typed(cl ? toNHWC(x, batch, channels, hw) : x, dtype), dtype, batch, channels, hw, cl);
        expectClose(readAs(y, dtype, batch * channels), ref.globalAvgpoolForward(x, batch, channels, hw), inDtype({ atol: 1e-7, rtol: 1e-6 }, dtype));
        const dy = roundTo(rand(batch * channels, 3), dtype);
        const dx = emptyOf(batch * channels * hw, dtype);
        kernels.global_avgpool_backward(dx, typed(dy, dtype), dtype, batch, channels, hw, cl);
        const got = readAs(dx, dtype, batch * channels * hw);
        expectClose(cl ? fromNHWC(got, batch, channels, hw) : got, ref.globalAvgpoolBackward(dy, batch, channels, hw), inDtype({ atol: 0, rtol: 1e-6 }, dtype));
      });
    }
  }
});

describe('pool reference backward vs finite differences', () => {
  // float64 central differences, eps 1e-6; max pooling is linear near distinct random inputs.
  const FD = { atol: 1e-7, rtol: 1e-6 };
  const s = ref.pool2dShape({ batch: 2, channels: 2, inH: 7, inW: 6, kernel: [3, 2], stride: [2, 1], pad: [1, 1], ceilMode: true });
  const x = randn(s.batch * s.channels * s.inH * s.inW, 1);
  const dy = randn(s.batch * s.channels * s.outH * s.outW, 2);
  test('maxpool2dBackward = d sum(maxpool2dForward * dy) / dx (k=3x2 s=2x1 p=1 ceil_mode)', () => {
    const numeric = numericGradient((xv) => dot(ref.maxpool2dForward(xv, s).y, dy), x);
    expectClose(ref.maxpool2dBackward(dy, ref.maxpool2dForward(x, s).indices, s), numeric, FD);
  });
  for (const countIncludePad of [true, false]) {
    test(`avgpool2dBackward = d sum(avgpool2dForward * dy) / dx (k=3x2 s=2x1 p=1 ceil_mode count_include_pad=${countIncludePad})`, () => {
      const numeric = numericGradient((xv) => dot(ref.avgpool2dForward(xv, s, countIncludePad), dy), x);
      expectClose(ref.avgpool2dBackward(dy, s, countIncludePad), numeric, FD);
    });
  }
  test('globalAvgpoolBackward = d sum(globalAvgpoolForward * dy) / dx (batch=2 channels=3 hw=5)', () => {
    const xg = randn(30, 3);
    const dyg = randn(6, 4);
    const numeric = numericGradient((xv) => dot(ref.globalAvgpoolForward(xv, 2, 3, 5), dyg), xg);
    expectClose(ref.globalAvgpoolBackward(dyg, 2, 3, 5), numeric, FD);
  });
});

describe('pool argument errors', () => {
  const s = ref.pool2dShape({ batch: 1, channels: 2, inH: 4, inW: 4, kernel: [2, 2] });
  const nativeError = (fn: () => void): NativeError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(NativeError);
      return e as NativeError;
    }
    throw new Error('expected a NativeError');
  };
  const maxpoolCall = (y: unknown, shape: ref.Pool2dShape) =>
    (kernels.maxpool2d_forward as unknown as (...a: unknown[]) => void)(y, i32(new Int32Array(64)), f32(new Float32Array(64)), 'float32', ...ref.pool2dArgs(shape), false);

  test('maxpool2d_forward too-small output gives ERR_SHAPE naming the op', () => {
    const e = nativeError(() => maxpoolCall(empty(2), s));
    expect(e.code).toBe('ERR_SHAPE');
    expect(e.message).toContain('maxpool2d_forward');
  });
  test('maxpool2d_forward padding over half the kernel gives ERR_NATIVE_INVALID_ARGUMENT', () => {
    const e = nativeError(() => maxpoolCall(empty(64), { ...s, padH: 2, outH: 3 }));
    expect(e.code).toBe('ERR_NATIVE_INVALID_ARGUMENT');
    expect(e.op).toBe('maxpool2d_forward');
    expect(e.message).toMatch(/padding/);
  });
  test('avgpool2d_forward stride=0 and a window starting past the input are rejected', () => {
    const call = (shape: ref.Pool2dShape) =>
      (kernels.avgpool2d_forward as unknown as (...a: unknown[]) => void)(empty(64), f32(new Float32Array(64)), 'float32', ...ref.pool2dArgs(shape), true, false);
    expect(nativeError(() => call({ ...s, strideW: 0 })).op).toBe('avgpool2d_forward');
    expect(nativeError(() => call({ ...s, outH: 3 })).message).toMatch(/past the input/);
  });
  test('maxpool2d_backward index outside the plane is rejected', () => {
    const e = nativeError(() => kernels.maxpool2d_backward(empty(16), f32([1, 2, 3, 4]), i32([0, 1, 16, 2]), 'float32', 1, 1, 4, 4, 2, 2, false));
    expect(e.op).toBe('maxpool2d_backward');
    expect(e.message).toMatch(/indices/);
  });
  test('global_avgpool_forward hw=0 with planes is rejected', () => {
    const e = nativeError(() => kernels.global_avgpool_forward(empty(2), empty(0), 'float32', 1, 2, 0, false));
    expect(e.op).toBe('global_avgpool_forward');
  });
});

test('maxpool2d_backward channels_last index outside the plane is rejected', () => {
  expect(() => kernels.maxpool2d_backward(empty(32), f32([1, 2]), i32([0, 16]), 'float32', 1, 2, 4, 4, 1, 1, true)).toThrow(/maxpool2d_backward.*indices/);
});
