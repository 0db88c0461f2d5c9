// matmul_batched (native/cpu/matmul.cc) against the float64 reference of test/reference/matmul.ts:
// every transpose combination, alpha / beta, broadcast (0) and padded strides, the batch-parallel
// path (many small matrices) and the BLAS-threaded path (one large matrix), empty sizes, and the
// argument errors.
import { describe, expect, test } from 'vitest';
import { NativeError } from '../../src/errors';
import { expectClose } from '../helpers/compare';
import { empty, f32, kernels, readF32 } from '../helpers/native';
import { randn } from '../helpers/random';
import { type MatmulArgs, matmulBatched, matmulSizes } from '../reference/matmul';

const rand = (n: number, seed: number): Float32Array => Float32Array.from(randn(n, seed));

// Runs the kernel on random float32 inputs; c starts random (or NaN when beta == 0, which must
// not be read) and is compared, gaps between strided outputs included, to the reference.
function check(p: MatmulArgs, seed: number, tol = { atol: 1e-5, rtol: 1e-5 }): void {
  const sizes = matmulSizes(p);
  const a = rand(sizes.a, seed);
  const b = rand(sizes.b, seed + 1);
  const c0 = p.beta === 0 ? new Float32Array(sizes.c).fill(NaN) : rand(sizes.c, seed + 2);
  const c = f32(c0);
  kernels.matmul_batched(c, f32(a), f32(b), 'float32', p.batch, p.m, p.n, p.k, p.transA, p.transB, p.alpha, p.beta,
    p.strideA, p.strideB, p.strideC);
  expectClose(readF32(c, sizes.c), matmulBatched(c0, a, b, p), tol);
}

function args(batch: number, m: number, n: number, k: number, over: Partial<MatmulArgs> = {}): MatmulArgs {
  return {
    batch, m, n, k, transA: false, transB: false, alpha: 1, beta: 0,
    strideA: m * k, strideB: k * n, strideC: m * n, ...over,
  };
}

describe('matmul_batched', () => {
  // float32 accumulation of k <= 200 products of N(0, 1) values: |error| ~ 1e-6 * sqrt(k).
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    const name = `${ta ? 't' : 'n'}${tb ? 't' : 'n'}`;
    test(`matmul_batched ${name} batch=3 m=5 n=7 k=3`, () => check(args(3, 5, 7, 3, { transA: ta, transB: tb }), 1));
    test(`matmul_batched ${name} batch=2 m=33 n=17 k=65 alpha=-0.5 beta=1.5`, () =>
      check(args(2, 33, 17, 65, { transA: ta, transB: tb, alpha: -0.5, beta: 1.5 }), 2));
  }
  test('matmul_batched alpha=0 beta=2 (c scaled only)', () => check(args(2, 4, 5, 6, { alpha: 0, beta: 2 }), 3));
  test('matmul_batched beta=0 overwrites a NaN-filled c', () => check(args(2, 4, 5, 6, { alpha: 2, beta: 0 }), 4));
  test('matmul_batched broadcast stride_a=0 batch=4 m=6 n=5 k=7', () => check(args(4, 6, 5, 7, { strideA: 0 }), 5));
  test('matmul_batched broadcast stride_b=0 trans_b batch=4 m=6 n=5 k=7 beta=1', () =>
    check(args(4, 6, 5, 7, { strideB: 0, transB: true, beta: 1 }), 6));
  test('matmul_batched padded strides a=50 b=45 c=37 batch=3 m=5 n=7 k=6 beta=0.5', () =>
    check(args(3, 5, 7, 6, { strideA: 50, strideB: 45, strideC: 37, beta: 0.5 }), 7));
  test('matmul_batched many small matrices batch=200 m=4 n=3 k=5 (batch-parallel path)', () =>
    check(args(200, 4, 3, 5, { transA: true, beta: 0.25 }), 8));
  // k = 200: |error| up to ~2e-5 for |c| ~ 14.
  test('matmul_batched one large matrix batch=1 m=130 n=150 k=200 (threaded BLAS path)', () =>
    check(args(1, 130, 150, 200, { beta: 1 }), 9, { atol: 5e-5, rtol: 1e-5 }));
  test('matmul_batched batch=2 m=128 n=96 k=160 tt (threaded BLAS, one after another)', () =>
    check(args(2, 128, 96, 160, { transA: true, transB: true }), 10, { atol: 5e-5, rtol: 1e-5 }));

  // Empty sizes: exact.
  test('matmul_batched k=0 beta=0.5 scales c', () => check(args(2, 3, 4, 0, { beta: 0.5 }), 11, { atol: 0, rtol: 0 }));
  test('matmul_batched k=0 beta=0 zeroes a NaN-filled c', () => check(args(2, 3, 4, 0), 12, { atol: 0, rtol: 0 }));
  test('matmul_batched m=0, n=0 and batch=0 leave c untouched', () => {
    check(args(2, 0, 4, 3, { beta: 1 }), 13, { atol: 0, rtol: 0 });
    check(args(2, 3, 0, 3, { beta: 1 }), 14, { atol: 0, rtol: 0 });
    const c = f32([1, 2, 3]);
    kernels.matmul_batched(c, f32([1]), f32([1]), 'float32', 0, 1, 1, 1, false, false, 1, 0, 1, 1, 1);
    expect(Array.from(readF32(c, 3))).toEqual([1, 2, 3]);
  });

  test('matmul_batched errors: small buffer (ERR_SHAPE), overlapping outputs, negative size', () => {
    const a = f32(new Float32Array(12));
    const b = f32(new Float32Array(12));
    const small = empty(5);
    let err: unknown;
    try {
      kernels.matmul_batched(small, a, b, 'float32', 1, 3, 2, 4, false, false, 1, 0, 12, 8, 6);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NativeError);
    expect((err as NativeError).code).toBe('ERR_SHAPE');
    expect((err as NativeError).message).toContain('matmul_batched');

    const c = empty(12);
    expect(() => kernels.matmul_batched(c, a, b, 'float32', 2, 2, 2, 2, false, false, 1, 0, 4, 4, 3)).toThrow(
      expect.objectContaining({ op: 'matmul_batched', code: 'ERR_NATIVE_INVALID_ARGUMENT', message: expect.stringMatching(/stride_c/) }),
    );
    expect(() => kernels.matmul_batched(c, a, b, 'float32', 1, -1, 2, 2, false, false, 1, 0, 4, 4, 4)).toThrow(
      expect.objectContaining({ op: 'matmul_batched' }),
    );
  });
});
