// Reduction kernels (native/cpu/reduce.cc) against the float64 references of
// test/reference/reduce.ts: sums accumulate in double, so the only error is the final float32
// rounding (rtol 1e-7 covers it).
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { empty, f32, kernels, readF32 } from '../helpers/native';
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

function run(kernel: Reducer, x: Float32Array, scale: number): number {
  const out = empty(1);
  kernels[kernel](out, f32(x), x.length, scale);
  return readF32(out, 1)[0];
}

describe('scalar reductions', () => {
  for (const kernel of Object.keys(REFS) as Reducer[]) {
    for (const n of [0, 1, 1000, 100_003]) {
      for (const mean of [false, true]) {
        const scale = mean && n > 0 ? 1 / n : 1;
        test(`${kernel} n=${n} scale=${mean && n > 0 ? '1/n' : 1}`, () => {
          const x = rand(n, n + 1);
          expectClose([run(kernel, x, scale)], [REFS[kernel](x, scale)], TOL);
        });
      }
    }
  }

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
