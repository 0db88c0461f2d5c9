// Normalization kernels (native/cpu/norm.cc) against the float64 references of
// test/reference/norm.ts: BatchNorm2d train/eval forward and backward, LayerNorm forward and
// backward, for float32, bfloat16 and float16 storage (inputs rounded to the dtype first, so the
// reference sees the kernel's inputs; outputs then carry one rounding to the dtype, ULP[dtype]
// relative on top of the float32 tolerances), and BatchNorm in channels-last (NHWC) against the
// same references and against NCHW. Backward references are checked once against central finite
// differences.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { FLOAT_DTYPES, ULP, empty, emptyOf, f32, fromNHWC, kernels, readAs, readF32, roundTo, toNHWC, typed, type FloatName } from '../helpers/native';
import type { Tolerance } from '../helpers/compare';
import { randn, randu } from '../helpers/random';
import * as ref from '../reference/norm';
import { dot, numericGradient } from '../reference/finite-difference';

const rand = (n: number, seed: number, std = 1, mean = 0): Float32Array => Float32Array.from(randn(n, seed, std), (v) => v + mean);
const F = (a: ArrayLike<number>): Float32Array => Float32Array.from(a);

// Statistics accumulate in double and are rounded once: a float32 ulp or two.
const STATS = { atol: 1e-7, rtol: 1e-6 };
// y = x * a + b with a, b rounded to float32: ~2 ulp of |x * a| + |b| (x has mean 3, std 2).
const OUTPUT = { atol: 2e-6, rtol: 1e-5 };
// dx = (dy - mean(dy) - (x - mean) * k) * w in float32; dgamma, dbeta: double sums, one rounding.
const GRADS = { atol: 5e-6, rtol: 1e-5 };
// One rounding of the result to the dtype on top of a float32 tolerance (a bit over 1/2 ulp).
const inDtype = (tol: Tolerance, dtype: FloatName): Tolerance => ({ atol: tol.atol, rtol: tol.rtol + ULP[dtype] });

// (n, c, hw): tiny, BatchNorm1d-like (hw = 1), a CNN's late layer, a batch of one, many channels.
const BN_CONFIGS: [number, number, number][] = [
  [2, 3, 5],
  [16, 8, 1],
  [4, 16, 49],
  [1, 2, 6],
  [3, 130, 20],
];

describe('batchnorm2d', () => {
  for (const [n, c, hw] of BN_CONFIGS) {
    for (const dtype of FLOAT_DTYPES) {
      for (const cl of [false, true]) {
        const size = n * c * hw;
        const cfg = `${dtype}${cl ? ' channels_last' : ''} n=${n} c=${c} hw=${hw}`;
        // Inputs as the kernel sees them (rounded to dtype), in logical NCHW order.
        const x = roundTo(rand(size, 1, 2, 3), dtype);
        const gamma = rand(c, 2);
        const beta = rand(c, 3);
        const runningMean = rand(c, 4);
        const runningVar = Float32Array.from(randu(c, 5, 0.5, 2));
        const [momentum, eps] = [0.1, 1e-5];
        // Device buffers in the tested layout, and results read back to NCHW.
        const put = (v: Float32Array) => typed(cl ? toNHWC(v, n, c, hw) : v, dtype);
        const get = (b: ReturnType<typeof empty>) => (cl ? fromNHWC(readAs(b, dtype, size), n, c, hw) : readAs(b, dtype, size));

        test(`batchnorm2d_forward_train ${cfg}`, () => {
          const y = emptyOf(size, dtype);
          const [mean, invstd] = [empty(c), empty(c)];
          const [rm, rv] = [f32(runningMean), f32(runningVar)];
          kernels.batchnorm2d_forward_train(y, mean, invstd, rm, rv, put(x), f32(gamma), f32(beta), dtype, n, c, hw, cl, momentum, eps);
          const want = ref.batchnormTrain(x, gamma, beta, runningMean, runningVar, n, c, hw, Math.fround(momentum), Math.fround(eps));
          expectClose(get(y), want.y, inDtype(OUTPUT, dtype), 'y');
          expectClose(readF32(mean, c), want.mean, STATS, 'save_mean');
          expectClose(readF32(invstd, c), want.invstd, STATS, 'save_invstd');
          expectClose(readF32(rm, c), want.runningMean, STATS, 'running_mean');
          expectClose(readF32(rv, c), want.runningVar, STATS, 'running_var');
        });

        test(`batchnorm2d_forward_eval ${cfg}`, () => {
          const y = emptyOf(size, dtype);
          kernels.batchnorm2d_forward_eval(y, put(x), f32(gamma), f32(beta), f32(runningMean), f32(runningVar), dtype, n, c, hw, cl, eps);
          expectClose(get(y), ref.batchnormEval(x, gamma, beta, runningMean, runningVar, n, c, hw, Math.fround(eps)), inDtype(OUTPUT, dtype));
        });

        test(`batchnorm2d_backward_train ${cfg}`, () => {
          const dy = roundTo(rand(size, 6), dtype);
          const stats = ref.batchnormTrain(x, gamma, beta, runningMean, runningVar, n, c, hw, momentum, Math.fround(eps));
          const [mean, invstd] = [F(stats.mean), F(stats.invstd)];
          const [dx, dgamma, dbeta] = [emptyOf(size, dtype), empty(c), empty(c)];
          kernels.batchnorm2d_backward_train(dx, dgamma, dbeta, put(dy), put(x), f32(gamma), f32(mean), f32(invstd), dtype, n, c, hw, cl);
          const want = ref.batchnormBackwardTrain(dy, x, gamma, mean, invstd, n, c, hw);
          expectClose(get(dx), want.dx, inDtype(GRADS, dtype), 'dx');
          expectClose(readF32(dgamma, c), want.dgamma, GRADS, 'dgamma');
          expectClose(readF32(dbeta, c), want.dbeta, GRADS, 'dbeta');
        });

        test(`batchnorm2d_backward_eval ${cfg}`, () => {
          const dy = roundTo(rand(size, 7), dtype);
          const [dx, dgamma, dbeta] = [emptyOf(size, dtype), empty(c), empty(c)];
          kernels.batchnorm2d_backward_eval(dx, dgamma, dbeta, put(dy), put(x), f32(gamma), f32(runningMean), f32(runningVar), dtype, n, c, hw, cl, eps);
          const want = ref.batchnormBackwardEval(dy, x, gamma, runningMean, runningVar, n, c, hw, Math.fround(eps));
          expectClose(get(dx), want.dx, inDtype(GRADS, dtype), 'dx');
          expectClose(readF32(dgamma, c), want.dgamma, GRADS, 'dgamma');
          expectClose(readF32(dbeta, c), want.dbeta, GRADS, 'dbeta');
        });
      }
    }
  }

  // NHWC sums in row blocks, NCHW per channel: the double sums agree to the last float32 bit or
  // so, and the outputs to one rounding step of the dtype.
  for (const dtype of FLOAT_DTYPES) {
    test(`batchnorm2d NHWC equals NCHW within one ${dtype} rounding n=8 c=24 hw=300 (several row blocks)`, () => {
      const [n, c, hw] = [8, 24, 300];
      const size = n * c * hw;
      const x = roundTo(rand(size, 40, 2, 3), dtype);
      const dy = roundTo(rand(size, 41), dtype);
      const gamma = rand(c, 42);
      const beta = rand(c, 43);
      const run = (cl: boolean) => {
        const [y, mean, invstd, dx, dgamma, dbeta] = [emptyOf(size, dtype), empty(c), empty(c), emptyOf(size, dtype), empty(c), empty(c)];
        const lay = (v: Float32Array) => typed(cl ? toNHWC(v, n, c, hw) : v, dtype);
        const back = (b: ReturnType<typeof empty>) => (cl ? fromNHWC(readAs(b, dtype, size), n, c, hw) : readAs(b, dtype, size));
        kernels.batchnorm2d_forward_train(y, mean, invstd, f32(new Float32Array(c)), f32(new Float32Array(c).fill(1)), lay(x), f32(gamma), f32(beta), dtype, n, c, hw, cl, 0.1, 1e-5);
        kernels.batchnorm2d_backward_train(dx, dgamma, dbeta, lay(dy), lay(x), f32(gamma), mean, invstd, dtype, n, c, hw, cl);
        return { y: back(y), dx: back(dx), mean: readF32(mean, c), dgamma: readF32(dgamma, c) };
      };
      const [a, b] = [run(false), run(true)];
      expectClose(b.mean, a.mean, { atol: 1e-7, rtol: 2 ** -22 }, 'save_mean');
      expectClose(b.dgamma, a.dgamma, { atol: 1e-5, rtol: 2 ** -20 }, 'dgamma');
      expectClose(b.y, a.y, { atol: 1e-6, rtol: ULP[dtype] }, 'y');
      expectClose(b.dx, a.dx, { atol: 1e-6, rtol: ULP[dtype] }, 'dx');
    });
  }

  test('batchnorm2d_backward_train in place (dx = dy) n=4 c=3 hw=10', () => {
    const [n, c, hw] = [4, 3, 10];
    const x = rand(120, 8, 2, 1);
    const gamma = rand(c, 9);
    const dy = rand(120, 10);
    const s = ref.batchnormTrain(x, gamma, new Float64Array(c), new Float64Array(c), new Float64Array(c), n, c, hw, 0.1, Math.fround(1e-5));
    const [mean, invstd] = [F(s.mean), F(s.invstd)];
    const dyb = f32(dy);
    kernels.batchnorm2d_backward_train(dyb, empty(c), empty(c), dyb, f32(x), f32(gamma), f32(mean), f32(invstd), 'float32', n, c, hw, false);
    expectClose(readF32(dyb, 120), ref.batchnormBackwardTrain(dy, x, gamma, mean, invstd, n, c, hw).dx, GRADS);
  });

  // float64 central differences (eps 1e-6) of the forward references.
  test('reference backward vs finite differences n=2 c=3 hw=4', () => {
    const [n, c, hw, eps] = [2, 3, 4, 1e-5];
    const x = randn(24, 11, 2);
    const gamma = randn(c, 12);
    const beta = randn(c, 13);
    const rm = randn(c, 14);
    const rv = randu(c, 15, 0.5, 2);
    const r = randn(24, 16);
    const fd = { atol: 1e-6, rtol: 1e-6 };
    const train = (xx: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>): number =>
      dot(ref.batchnormTrain(xx, g, b, rm, rv, n, c, hw, 0.1, eps).y, r);
    const s = ref.batchnormTrain(x, gamma, beta, rm, rv, n, c, hw, 0.1, eps);
    const bt = ref.batchnormBackwardTrain(r, x, gamma, s.mean, s.invstd, n, c, hw);
    expectClose(bt.dx, numericGradient((v) => train(v, gamma, beta), x), fd, 'train dx');
    expectClose(bt.dgamma, numericGradient((v) => train(x, v, beta), gamma), fd, 'train dgamma');
    expectClose(bt.dbeta, numericGradient((v) => train(x, gamma, v), beta), fd, 'train dbeta');
    const evalLoss = (xx: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>): number =>
      dot(ref.batchnormEval(xx, g, b, rm, rv, n, c, hw, eps), r);
    const be = ref.batchnormBackwardEval(r, x, gamma, rm, rv, n, c, hw, eps);
    expectClose(be.dx, numericGradient((v) => evalLoss(v, gamma, beta), x), fd, 'eval dx');
    expectClose(be.dgamma, numericGradient((v) => evalLoss(x, v, beta), gamma), fd, 'eval dgamma');
    expectClose(be.dbeta, numericGradient((v) => evalLoss(x, gamma, v), beta), fd, 'eval dbeta');
  });

  test('batchnorm2d_forward_train with one value per channel is an error naming the op and sizes', () => {
    expect(() =>
      kernels.batchnorm2d_forward_train(empty(2), empty(2), empty(2), f32([0, 0]), f32([1, 1]), f32([1, 2]), f32([1, 1]), f32([0, 0]), 'float32', 1, 2, 1, false, 0.1, 1e-5),
    ).toThrow(/batchnorm2d_forward_train.*n=1, c=2, hw=1/);
  });

  test('batchnorm2d_forward_eval with a short gamma fails with ERR_SHAPE', () => {
    expect(() => kernels.batchnorm2d_forward_eval(empty(12), f32(new Float32Array(12)), f32([1, 1]), f32([0, 0, 0]), f32([0, 0, 0]), f32([1, 1, 1]), 'float32', 2, 3, 2, false, 1e-5)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });
});

// (rows, cols): tiny, a ViT token batch (cols 384), wide rows, many short rows (several row groups).
const LN_CONFIGS: [number, number][] = [
  [3, 8],
  [394, 384],
  [16, 1000],
  [4097, 7],
];

describe('layernorm', () => {
  for (const [rows, cols] of LN_CONFIGS) {
    for (const dtype of FLOAT_DTYPES) {
      const size = rows * cols;
      const cfg = `${dtype} rows=${rows} cols=${cols}`;
      const x = roundTo(rand(size, 20, 2, 3), dtype);
      const gamma = rand(cols, 21);
      const beta = rand(cols, 22);
      const eps = 1e-5;

      test(`layernorm_forward ${cfg}`, () => {
        const [y, mean, rstd] = [emptyOf(size, dtype), empty(rows), empty(rows)];
        kernels.layernorm_forward(y, mean, rstd, typed(x, dtype), f32(gamma), f32(beta), dtype, rows, cols, eps);
        const want = ref.layernorm(x, gamma, beta, rows, cols, Math.fround(eps));
        expectClose(readAs(y, dtype, size), want.y, inDtype(OUTPUT, dtype), 'y');
        expectClose(readF32(mean, rows), want.mean, STATS, 'save_mean');
        expectClose(readF32(rstd, rows), want.rstd, STATS, 'save_rstd');
      });

      test(`layernorm_backward ${cfg}`, () => {
        const dy = roundTo(rand(size, 23), dtype);
        const s = ref.layernorm(x, gamma, beta, rows, cols, Math.fround(eps));
        const [mean, rstd] = [F(s.mean), F(s.rstd)];
        const [dx, dgamma, dbeta] = [emptyOf(size, dtype), empty(cols), empty(cols)];
        kernels.layernorm_backward(dx, dgamma, dbeta, typed(dy, dtype), typed(x, dtype), f32(gamma), f32(mean), f32(rstd), dtype, rows, cols);
        const want = ref.layernormBackward(dy, x, gamma, mean, rstd, rows, cols);
        expectClose(readAs(dx, dtype, size), want.dx, inDtype(GRADS, dtype), 'dx');
        // Sums over up to 4097 rows of O(1) terms: the float32 inputs' rounding stays, ~1e-7 relative.
        expectClose(readF32(dgamma, cols), want.dgamma, { atol: 1e-4, rtol: 1e-5 }, 'dgamma');
        expectClose(readF32(dbeta, cols), want.dbeta, { atol: 1e-4, rtol: 1e-5 }, 'dbeta');
      });
    }
  }

  test('reference backward vs finite differences rows=3 cols=5', () => {
    const [rows, cols, eps] = [3, 5, 1e-5];
    const x = randn(15, 24, 2);
    const gamma = randn(cols, 25);
    const beta = randn(cols, 26);
    const r = randn(15, 27);
    const fd = { atol: 1e-6, rtol: 1e-6 };
    const loss = (xx: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>): number => dot(ref.layernorm(xx, g, b, rows, cols, eps).y, r);
    const s = ref.layernorm(x, gamma, beta, rows, cols, eps);
    const want = ref.layernormBackward(r, x, gamma, s.mean, s.rstd, rows, cols);
    expectClose(want.dx, numericGradient((v) => loss(v, gamma, beta), x), fd, 'dx');
    expectClose(want.dgamma, numericGradient((v) => loss(x, v, beta), gamma), fd, 'dgamma');
    expectClose(want.dbeta, numericGradient((v) => loss(x, gamma, v), beta), fd, 'dbeta');
  });
});
