// matmul_batched in bfloat16 and float16 (float32 is matmul.test.ts) against the float64
// reference of test/reference/matmul.ts on inputs rounded to the dtype: transposes, alpha / beta,
// broadcast and padded strides (the gaps between strided outputs must come back unchanged), the
// batch-parallel and the large-matrix shapes. bfloat16 runs on oneDNN's matmul primitive (when
// built with oneDNN), float16 is staged through float32 sgemm.
import { describe, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { type FloatDType, download, roundTo, scaleOf, upload } from '../helpers/dtype';
import { kernels } from '../helpers/native';
import { randn } from '../helpers/random';
import { type MatmulArgs, matmulBatched, matmulSizes } from '../reference/matmul';

// Tolerance per dtype: float32 accumulation, then one rounding of c to the dtype (relative error
// <= 2^-9 for bfloat16, 2^-11 for float16), relative to the output scale (max |reference|).
const RTOL: Record<'bfloat16' | 'float16', number> = { bfloat16: 1e-2, float16: 2e-3 };

function check(dtype: 'bfloat16' | 'float16', p: MatmulArgs, seed: number): void {
  const sizes = matmulSizes(p);
  const a = roundTo(randn(sizes.a, seed), dtype);
  const b = roundTo(randn(sizes.b, seed + 1), dtype);
  const c0 = p.beta === 0 ? new Float32Array(sizes.c).fill(NaN) : roundTo(randn(sizes.c, seed + 2), dtype);
  const c = upload(c0, dtype as FloatDType);
  kernels.matmul_batched(c, upload(a, dtype), upload(b, dtype), dtype, p.batch, p.m, p.n, p.k, p.transA, p.transB,
    p.alpha, p.beta, p.strideA, p.strideB, p.strideC);
  const expected = matmulBatched(c0, a, b, p);
  const r = RTOL[dtype];
  expectClose(download(c, dtype, sizes.c), expected, { atol: r * scaleOf(expected.filter((v) => !Number.isNaN(v))), rtol: r });
}

function args(batch: number, m: number, n: number, k: number, over: Partial<MatmulArgs> = {}): MatmulArgs {
  return { batch, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: m * k, strideB: k * n, strideC: m * n, ...over };
}

for (const dtype of ['bfloat16', 'float16'] as const) {
  describe(`matmul_batched ${dtype}`, () => {
    // Tolerance: RTOL[dtype] of the output scale (see above).
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const name = `${ta ? 't' : 'n'}${tb ? 't' : 'n'}`;
      test(`${dtype} ${name} batch=3 m=5 n=7 k=3`, () => check(dtype, args(3, 5, 7, 3, { transA: ta, transB: tb }), 1));
      test(`${dtype} ${name} batch=2 m=33 n=17 k=65 alpha=-0.5 beta=1.5`, () =>
        check(dtype, args(2, 33, 17, 65, { transA: ta, transB: tb, alpha: -0.5, beta: 1.5 }), 2));
    }
    test(`${dtype} alpha=0 beta=2`, () => check(dtype, args(2, 4, 5, 6, { alpha: 0, beta: 2 }), 3));
    test(`${dtype} beta=0 overwrites a NaN-filled c`, () => check(dtype, args(2, 4, 5, 6, { alpha: 2, beta: 0 }), 4));
    test(`${dtype} broadcast stride_a=0 batch=4`, () => check(dtype, args(4, 6, 5, 7, { strideA: 0 }), 5));
    test(`${dtype} broadcast stride_b=0 trans_b beta=1`, () => check(dtype, args(4, 6, 5, 7, { strideB: 0, transB: true, beta: 1 }), 6));
    test(`${dtype} padded strides a=50 b=45 c=37 beta=0.5 (gaps of c unchanged)`, () =>
      check(dtype, args(3, 5, 7, 6, { strideA: 50, strideB: 45, strideC: 37, beta: 0.5 }), 7));
    test(`${dtype} many small matrices batch=200 m=4 n=3 k=5`, () => check(dtype, args(200, 4, 3, 5, { transA: true, beta: 0.25 }), 8));
    test(`${dtype} one large matrix m=130 n=150 k=200 beta=1`, () => check(dtype, args(1, 130, 150, 200, { beta: 1 }), 9));
    test(`${dtype} k=0 beta=0.5 scales c`, () => check(dtype, args(2, 3, 4, 0, { beta: 0.5 }), 11));
  });
}
