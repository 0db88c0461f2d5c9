// Loss kernels (native/cpu/loss.cc) against the float64 references of test/reference/loss.ts:
// cross-entropy with integer labels and with soft targets, forward (per-row losses and
// log-probabilities) and backward, with float32, bfloat16 and float16 logits (rounded to the
// dtype first; losses and log-probabilities stay float32, dlogits carry one rounding to the
// dtype: ULP[dtype] relative on top); backward references checked once against finite differences.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { FLOAT_DTYPES, ULP, empty, emptyOf, f32, i32, kernels, readAs, readF32, roundTo, typed } from '../helpers/native';
import { randint, randn, randu } from '../helpers/random';
import * as ref from '../reference/loss';
import { dot, numericGradient } from '../reference/finite-difference';

const rand = (n: number, seed: number, std = 1): Float32Array => Float32Array.from(randn(n, seed, std));

// log-sum-exp in double, one float32 rounding of each output: ~1 ulp of |logit - lse|.
const FORWARD = { atol: 1e-6, rtol: 1e-6 };
// exp of a float32 log-probability (~1 ulp of it, times p), times dloss: absolute ~1e-7.
const BACKWARD = { atol: 2e-7, rtol: 1e-6 };

// Soft targets: rows of non-negative weights; the last row sums to 0.7, not 1 (mixup with a mask).
function softTargets(rows: number, classes: number, seed: number): Float32Array {
  const t = Float32Array.from(randu(rows * classes, seed));
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < classes; k++) s += t[r * classes + k];
    const total = r === rows - 1 ? 0.7 : 1;
    for (let k = 0; k < classes; k++) t[r * classes + k] = (t[r * classes + k] / s) * total;
  }
  return t;
}

// (rows, classes, logit std): MNIST-like, ImageNet-like, one row, large logits.
const CONFIGS: [number, number, number][] = [
  [8, 10, 1],
  [16, 1000, 2],
  [1, 3, 1],
  [32, 100, 30],
];

describe('cross entropy', () => {
  for (const [rows, classes, std] of CONFIGS) for (const dtype of FLOAT_DTYPES) {
    const cfg = `${dtype} rows=${rows} classes=${classes} std=${std}`;
    const logits = roundTo(rand(rows * classes, 1, std), dtype);
    // dlogits rounded to the dtype (float16 subnormals: an absolute 2^-24).
    const BACK = { atol: BACKWARD.atol + (dtype === 'float16' ? 2 ** -24 : 0), rtol: BACKWARD.rtol + ULP[dtype] };
    const labels = randint(rows, classes, 2);
    const dlosses = rand(rows, 3);

    test(`cross_entropy_forward ${cfg}`, () => {
      const [losses, logProbs] = [empty(rows), empty(rows * classes)];
      kernels.cross_entropy_forward(losses, logProbs, typed(logits, dtype), i32(labels), dtype, rows, classes);
      const want = ref.crossEntropy(logits, labels, rows, classes);
      expectClose(readF32(losses, rows), want.losses, FORWARD, 'losses');
      expectClose(readF32(logProbs, rows * classes), want.logProbs, FORWARD, 'log_probs');
    });

    test(`cross_entropy_backward ${cfg}`, () => {
      const logProbs = Float32Array.from(ref.logSoftmax(logits, rows, classes));
      const d = emptyOf(rows * classes, dtype);
      kernels.cross_entropy_backward(d, f32(dlosses), f32(logProbs), i32(labels), dtype, rows, classes);
      expectClose(readAs(d, dtype, rows * classes), ref.crossEntropyBackward(dlosses, logProbs, labels, rows, classes), BACK);
    });

    test(`soft_cross_entropy_forward ${cfg}`, () => {
      const targets = softTargets(rows, classes, 4);
      const [losses, logProbs] = [empty(rows), empty(rows * classes)];
      kernels.soft_cross_entropy_forward(losses, logProbs, typed(logits, dtype), f32(targets), dtype, rows, classes);
      const want = ref.softCrossEntropy(logits, targets, rows, classes);
      expectClose(readF32(losses, rows), want.losses, FORWARD, 'losses');
      expectClose(readF32(logProbs, rows * classes), want.logProbs, FORWARD, 'log_probs');
    });

    test(`soft_cross_entropy_backward ${cfg}`, () => {
      const targets = softTargets(rows, classes, 5);
      const logProbs = Float32Array.from(ref.logSoftmax(logits, rows, classes));
      const d = emptyOf(rows * classes, dtype);
      kernels.soft_cross_entropy_backward(d, f32(dlosses), f32(logProbs), f32(targets), dtype, rows, classes);
      expectClose(readAs(d, dtype, rows * classes), ref.softCrossEntropyBackward(dlosses, logProbs, targets, rows, classes), BACK);
    });
  }

  test('cross entropy of one-hot soft targets equals cross entropy of the labels rows=4 classes=5', () => {
    const [rows, classes] = [4, 5];
    const logits = rand(20, 6);
    const labels = Int32Array.from([0, 4, 2, 2]);
    const onehot = new Float32Array(20);
    labels.forEach((l, r) => (onehot[r * classes + l] = 1));
    const [a, b] = [empty(rows), empty(rows)];
    kernels.cross_entropy_forward(a, empty(20), f32(logits), i32(labels), 'float32', rows, classes);
    kernels.soft_cross_entropy_forward(b, empty(20), f32(logits), f32(onehot), 'float32', rows, classes);
    expect(readF32(b, rows)).toEqual(readF32(a, rows));
  });

  // float64 central differences (eps 1e-6) of the forward losses with respect to the logits.
  test('reference backward vs finite differences rows=3 classes=4', () => {
    const [rows, classes] = [3, 4];
    const logits = randn(12, 7, 2);
    const labels = [1, 3, 0];
    const targets = softTargets(rows, classes, 8);
    const r = randn(rows, 9);
    const fd = { atol: 1e-7, rtol: 1e-6 };
    expectClose(ref.crossEntropyBackward(r, ref.logSoftmax(logits, rows, classes), labels, rows, classes),
      numericGradient((z) => dot(ref.crossEntropy(z, labels, rows, classes).losses, r), logits), fd, 'hard labels');
    expectClose(ref.softCrossEntropyBackward(r, ref.logSoftmax(logits, rows, classes), targets, rows, classes),
      numericGradient((z) => dot(ref.softCrossEntropy(z, targets, rows, classes).losses, r), logits), fd, 'soft targets');
  });
});

describe('argument errors', () => {
  for (const bad of [10, -1]) {
    test(`cross_entropy_forward label ${bad} at row 2 of classes=10 names the op, row and label`, () => {
      const labels = i32([0, 9, bad, 3]);
      let error: unknown;
      try {
        kernels.cross_entropy_forward(empty(4), empty(40), f32(new Float32Array(40)), labels, 'float32', 4, 10);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'NativeError', code: 'ERR_NATIVE_INVALID_ARGUMENT', op: 'cross_entropy_forward' });
      expect((error as Error).message).toMatch(new RegExp(`cross_entropy_forward.*label ${bad} at row 2`));
    });
  }
  test('cross_entropy_backward with a bad label names the op and row', () => {
    expect(() => kernels.cross_entropy_backward(empty(6), f32([1, 1]), f32(new Float32Array(6)), i32([0, 3]), 'float32', 2, 3)).toThrow(
      /cross_entropy_backward.*label 3 at row 1/,
    );
  });
  test('cross_entropy_forward with too few labels fails with ERR_SHAPE', () => {
    expect(() => kernels.cross_entropy_forward(empty(4), empty(40), f32(new Float32Array(40)), i32([0, 1, 2]), 'float32', 4, 10)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });
});
