// Reduction kernels (native/cpu/reduce.cc) against the float64 references of
// test/reference/reduce.ts: sums accumulate in double, so the only error is the final float32
// rounding (rtol 1e-7 covers it), for float32, bfloat16 and float16 inputs (rounded to the dtype
// first, so the reference sees the same values); accumulate_loss's running sum and first bad step.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { FLOAT_DTYPES, empty, f32, i32, kernels, readF32, readI32, roundTo, typed, type FloatName } from '../helpers/native';
import { randn } from '../helpers/random';
import * as ref from '../reference/reduce';

const rand = (n: number, seed: number, std = 1): Float32Array => Float32Array.from(randn(n, seed, std));
const TOL = { atol: 1e-30, rtol: 1e-7 };

type Reducer = 'reduce_sum' | 'reduce_abs_sum' | 'reduce_sum_squares';
const REFS: Record<Reducer, (x: ArrayLike<number>, scale: number) => number> = {
  reduce_sum: ref.sum,
  reduce_abs_sum: ref.absSum,
  reduce_sum_squares: ref.sumSquares,
};

function run(kernel: Reducer, x: Float32Array, scale: number, dtype: FloatName = 'float32'): number {
  const out = empty(1);
  kernels[kernel](out, typed(x, dtype), dtype, x.length, scale);
  return readF32(out, 1)[0];
}

describe('scalar reductions', () => {
  for (const dtype of FLOAT_DTYPES) {
    for (const kernel of Object.keys(REFS) as Reducer[]) {
      for (const n of [0, 1, 1000, 100_003]) {
        for (const mean of [false, true]) {
          const scale = mean && n > 0 ? 1 / n : 1;
          // Inputs rounded to the dtype first; the sum is in double either way: TOL.
          test(`${kernel} ${dtype} n=${n} scale=${mean && n > 0 ? '1/n' : 1}`, () => {
            const x = roundTo(rand(n, n + 1), dtype);
            expectClose([run(kernel, x, scale, dtype)], [REFS[kernel](x, scale)], TOL);
          });
        }
      }
    }
  }

  test('reduce_sum of an int32 buffer is an error naming the dtype', () => {
    expect(() => kernels.reduce_sum(empty(1), i32([1, 2]), 'int32', 2, 1)).toThrow(/reduce_sum.*int32/);
  });

  test('reduce_sum accumulates in double: [1e8, 1, -1e8, 0.5] sums to 1.5', () => {
    expect(run('reduce_sum', Float32Array.from([1e8, 1, -1e8, 0.5]), 1)).toBe(1.5);
  });

  // Thread-count independence (OMP_NUM_THREADS=1 vs 2, bit for bit): reduce-threads.test.ts.
});

describe('multi_reduce_abs_sum', () => {
  // Sizes include an empty tensor and tensors spanning several blocks.
  for (const numels of [[3], [0, 1, 5, 40_000, 70_001, 0, 2]]) {
    test(`multi_reduce_abs_sum numels=[${numels.join(',')}] scales=1/numel`, () => {
      const xs = numels.map((n, t) => rand(n, 10 + t));
      const scales = numels.map((n) => (n > 0 ? 1 / n : 1));
      const out = empty(numels.length);
      kernels.multi_reduce_abs_sum(out, xs.map((x) => f32(x)), numels, scales, numels.length);
      expectClose(readF32(out, numels.length), ref.multiAbsSum(xs, scales), TOL);
    });
  }

  test('multi_reduce_abs_sum with no tensors does nothing', () => {
    expect(() => kernels.multi_reduce_abs_sum(empty(1), [], [], [], 0)).not.toThrow();
  });

  test('multi_reduce_abs_sum with a buffer shorter than its numel fails with ERR_SHAPE', () => {
    expect(() => kernels.multi_reduce_abs_sum(empty(2), [f32([1, 2]), f32([1])], [2, 2], [1, 1], 2)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });
});

describe('accumulate_loss', () => {
  test('sums losses across calls and records only the first non-finite step', () => {
    const sum = f32([0]);
    const bad = i32([-1]);
    const losses = [1.5, 2.25, NaN, Infinity, 3];
    let want = 0;
    losses.forEach((l, step) => {
      kernels.accumulate_loss(sum, bad, f32([l]), step + 10);
      want += l;
      if (step === 1) {
        expect(readF32(sum, 1)[0]).toBe(3.75);
        expect(readI32(bad, 1)[0]).toBe(-1); // finite so far
      }
    });
    expect(Number.isNaN(readF32(sum, 1)[0])).toBe(Number.isNaN(want));
    expect(readI32(bad, 1)[0]).toBe(12); // the NaN at step 12, not the inf at 13
  });

  test('-inf is non-finite; a preset first_bad_step is kept', () => {
    const sum = f32([1]);
    const bad = i32([-1]);
    kernels.accumulate_loss(sum, bad, f32([-Infinity]), 4);
    expect(readF32(sum, 1)[0]).toBe(-Infinity);
    expect(readI32(bad, 1)[0]).toBe(4);
    const kept = i32([2]);
    kernels.accumulate_loss(f32([0]), kept, f32([NaN]), 9);
    expect(readI32(kept, 1)[0]).toBe(2);
  });
});
