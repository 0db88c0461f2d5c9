// Activation kernels (native/cpu/activation.cc) against the float64 references of
// test/reference/activation.ts; backward references checked once against central finite
// differences; dropout's mask checked for its statistics, reproducibility and stream offsets.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { empty, f32, kernels, readF32, readU8, u8 } from '../helpers/native';
import { randn } from '../helpers/random';
import * as ref from '../reference/activation';
import { dot, numericGradient } from '../reference/finite-difference';

const rand = (n: number, seed: number, std = 1): Float32Array => Float32Array.from(randn(n, seed, std));

// Inputs that exercise the tails and the special values of each activation.
function withSpecials(x: Float32Array): Float32Array {
  const specials = [0, -0, 1e-30, -1e-30, 5, -5, 9, -9, 20, -20, 100, -100];
  specials.forEach((v, i) => (x[i * 7] = v));
  return x;
}

const FD = { atol: 1e-7, rtol: 1e-6 }; // float64 central differences, eps 1e-6

describe('relu', () => {
  for (const n of [1, 1000, 100_001]) {
    test(`relu_forward n=${n}`, () => {
      const x = rand(n, 1);
      const y = empty(n);
      kernels.relu_forward(y, f32(x), 'float32', n);
      expectClose(readF32(y, n), ref.relu(x), { atol: 0, rtol: 0 }); // exact
    });
    test(`relu_backward n=${n}`, () => {
      const y = Float32Array.from(ref.relu(rand(n, 2)));
      const dy = rand(n, 3);
      const dx = empty(n);
      kernels.relu_backward(dx, f32(dy), f32(y), 'float32', n);
      expectClose(readF32(dx, n), ref.reluBackward(dy, y), { atol: 0, rtol: 0 }); // exact
    });
  }
  test('relu_backward in place (dx = y) n=300', () => {
    const y = Float32Array.from(ref.relu(rand(300, 4)));
    const dy = rand(300, 5);
    const yb = f32(y);
    kernels.relu_backward(yb, f32(dy), yb, 'float32', 300);
    expectClose(readF32(yb, 300), ref.reluBackward(dy, y), { atol: 0, rtol: 0 });
  });
});

describe('gelu', () => {
  // Phi to ~1 ulp in float32 and a ~1 ulp exp: a few ulp of the result. The backward's
  // Phi(x) + x phi(x) cancels near x = -0.75, so its error there is absolute: ~1.5e-7 * |dy|.
  const TOL = { atol: 1e-7, rtol: 1e-6 };
  const TOL_BACKWARD = { atol: 1e-6, rtol: 1e-6 };
  for (const [n, std] of [[100, 1], [5000, 3], [70_001, 1]]) {
    test(`gelu_forward n=${n} std=${std}`, () => {
      const x = withSpecials(rand(n, 6, std));
      const y = empty(n);
      kernels.gelu_forward(y, f32(x), 'float32', n);
      expectClose(readF32(y, n), ref.gelu(x), TOL);
    });
    test(`gelu_backward n=${n} std=${std}`, () => {
      const x = withSpecials(rand(n, 7, std));
      const dy = rand(n, 8);
      const dx = empty(n);
      kernels.gelu_backward(dx, f32(dy), f32(x), 'float32', n);
      expectClose(readF32(dx, n), ref.geluBackward(dy, x), TOL_BACKWARD);
    });
  }
  test('gelu_forward NaN stays NaN', () => {
    const y = empty(3);
    kernels.gelu_forward(y, f32([NaN, 1, -1]), 'float32', 3);
    expect(Number.isNaN(readF32(y, 3)[0])).toBe(true);
  });
});

describe('softmax', () => {
  // exp in float32 (~1 ulp), sum in double, one float32 multiply: a few ulp of each probability.
  const TOL = { atol: 1e-8, rtol: 2e-6 };
  for (const [rows, cols, std] of [[1, 1, 1], [3, 7, 1], [64, 197, 3], [5, 1000, 10]]) {
    const cfg = `rows=${rows} cols=${cols} std=${std}`;
    test(`softmax_forward ${cfg}`, () => {
      const x = rand(rows * cols, 9, std);
      const y = empty(rows * cols);
      kernels.softmax_forward(y, f32(x), 'float32', rows, cols);
      expectClose(readF32(y, rows * cols), ref.softmax(x, rows, cols), TOL);
    });
    test(`softmax_backward ${cfg}`, () => {
      const y = Float32Array.from(ref.softmax(rand(rows * cols, 10, std), rows, cols));
      const dy = rand(rows * cols, 11);
      const dx = empty(rows * cols);
      kernels.softmax_backward(dx, f32(dy), f32(y), 'float32', rows, cols);
      expectClose(readF32(dx, rows * cols), ref.softmaxBackward(dy, y, rows, cols), { atol: 1e-7, rtol: 1e-5 });
    });
  }
  test('softmax_forward with -inf entries (masked attention) rows=2 cols=6', () => {
    const x = Float32Array.from([1, -Infinity, 2, 3, -Infinity, 0, -Infinity, 5, -Infinity, -Infinity, -Infinity, -Infinity]);
    const y = empty(12);
    kernels.softmax_forward(y, f32(x), 'float32', 2, 6);
    expectClose(readF32(y, 12), ref.softmax(x, 2, 6), TOL);
  });
  test('softmax_forward in place (y = x) rows=4 cols=33', () => {
    const x = rand(132, 12);
    const yx = f32(x);
    kernels.softmax_forward(yx, yx, 'float32', 4, 33);
    expectClose(readF32(yx, 132), ref.softmax(x, 4, 33), TOL);
  });
});

describe('reference backward vs finite differences', () => {
  test('geluBackward, softmaxBackward and reluBackward rows=3 cols=5', () => {
    const x = randn(15, 13, 2);
    const r = randn(15, 14);
    expectClose(ref.geluBackward(r, x), numericGradient((v) => dot(ref.gelu(v), r), x), FD, 'gelu');
    expectClose(ref.softmaxBackward(r, ref.softmax(x, 3, 5), 3, 5), numericGradient((v) => dot(ref.softmax(v, 3, 5), r), x), FD, 'softmax');
    expectClose(ref.reluBackward(r, ref.relu(x)), numericGradient((v) => dot(ref.relu(v), r), x), FD, 'relu');
  });
});

describe('dropout', () => {
  function forward(x: Float32Array, p: number, seed: number, offset: number): { y: Float32Array; mask: Uint8Array } {
    const n = x.length;
    const y = empty(n);
    const mask = u8(new Uint8Array(n));
    kernels.dropout_forward(y, mask, f32(x), 'float32', n, p, seed, offset);
    return { y: readF32(y, n), mask: readU8(mask, n) };
  }

  for (const [n, p, seed, offset] of [[1000, 0.1, 7, 0], [70_000, 0.5, 123456789, 12], [4097, 0.9, -5, 2 ** 40]]) {
    test(`dropout_forward matches the reference hash n=${n} p=${p} seed=${seed} offset=${offset}`, () => {
      const x = rand(n, 15);
      const { y, mask } = forward(x, p, seed, offset);
      const want = ref.dropoutMask(n, p, seed, offset);
      expect(mask).toEqual(want); // exact: the mask is the cross-backend contract
      expectClose(y, ref.dropout(x, want, Math.fround(p)), { atol: 0, rtol: 1e-6 }); // x * fround(1/(1-p))
    });
  }

  for (const p of [0.1, 0.5, 0.9]) {
    test(`dropout keep rate within 5 sigma of 1-p n=200000 p=${p}`, () => {
      const n = 200_000;
      const { mask } = forward(new Float32Array(n).fill(1), p, 42, 0);
      const kept = mask.reduce((s, m) => s + m, 0);
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * (1 - p))).toBeLessThan(5 * sigma);
    });
  }

  test('dropout same seed and offset give the same mask; another seed differs n=5000 p=0.3', () => {
    const x = rand(5000, 16);
    const a = forward(x, 0.3, 99, 17);
    const b = forward(x, 0.3, 99, 17);
    const c = forward(x, 0.3, 100, 17);
    expect(b.mask).toEqual(a.mask);
    expect(b.y).toEqual(a.y);
    expect(c.mask).not.toEqual(a.mask);
  });

  test('dropout offset shifts the stream: mask(offset=k) == mask(offset=0)[k..] n=3000 k=1234', () => {
    const x = rand(3000 + 1234, 17);
    const whole = forward(x, 0.5, 2024, 0).mask;
    const shifted = forward(x.slice(0, 3000), 0.5, 2024, 1234).mask;
    expect(shifted).toEqual(whole.slice(1234, 1234 + 3000));
  });

  test('dropout p=0 is the identity and keeps everything n=1000', () => {
    const x = rand(1000, 18);
    const { y, mask } = forward(x, 0, 1, 0);
    expect(y).toEqual(x);
    expect(mask.every((m) => m === 1)).toBe(true);
  });

  test('dropout p=1 gives zeros n=1000', () => {
    const { y, mask } = forward(rand(1000, 19), 1, 1, 0);
    expect(y.every((v) => v === 0)).toBe(true);
    expect(mask.every((m) => m === 0)).toBe(true);
  });

  for (const p of [0.25, 1]) {
    test(`dropout_backward uses the mask and scale n=2000 p=${p}`, () => {
      const n = 2000;
      const mask = ref.dropoutMask(n, p, 3, 0);
      const dy = rand(n, 20);
      const dx = empty(n);
      kernels.dropout_backward(dx, f32(dy), u8(mask), 'float32', n, p);
      expectClose(readF32(dx, n), ref.dropout(dy, mask, Math.fround(p)), { atol: 0, rtol: 1e-6 });
    });
  }

  for (const p of [-0.1, 1.5, NaN]) {
    test(`dropout p=${p} outside [0, 1] is an error naming the op`, () => {
      expect(() => forward(new Float32Array(4), p, 0, 0)).toThrow(/dropout_forward.*p must be in \[0, 1\]/);
      expect(() => kernels.dropout_backward(empty(4), f32([1, 2, 3, 4]), u8([1, 1, 1, 1]), 'float32', 4, p)).toThrow(
        expect.objectContaining({ code: 'ERR_NATIVE_INVALID_ARGUMENT', op: 'dropout_backward' }),
      );
    });
  }

  test('dropout_forward with a too-small mask buffer fails with ERR_SHAPE', () => {
    expect(() => kernels.dropout_forward(empty(10), u8(new Uint8Array(9)), f32(new Float32Array(10)), 'float32', 10, 0.5, 0, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });
});
