// Elementwise kernels (native/cpu/elementwise.cc) against the float64 references of
// test/reference/elementwise.ts on random float32 inputs; the backward references are checked once
// against central finite differences. Tolerances are stated beside each test.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { empty, f32, kernels, readF32 } from '../helpers/native';
import { randn } from '../helpers/random';
import * as ref from '../reference/elementwise';
import { dot, numericGradient } from '../reference/finite-difference';

// float32 copies of random normals: the reference sees exactly what the kernel sees.
const rand = (n: number, seed: number, std = 1): Float32Array => Float32Array.from(randn(n, seed, std));

// One float32 rounding of each product and of the sum: |error| <= ~2 ulp of |alpha a| + |beta b|.
const POINTWISE = { atol: 1e-6, rtol: 1e-6 };
// Sums of up to ~10^4 products accumulated in double, rounded once to float32.
const CHANNEL_SUM = { atol: 1e-5, rtol: 1e-6 };

describe('add / mul / scale / scalar_broadcast', () => {
  for (const n of [1, 1000, 100_003]) {
    for (const [alpha, beta] of [[1, 1], [1, -0.3], [0.5, -2]]) {
      test(`add_forward n=${n} alpha=${alpha} beta=${beta}`, () => {
        const a = rand(n, 1);
        const b = rand(n, 2);
        const y = empty(n);
        kernels.add_forward(y, f32(a), f32(b), 'float32', alpha, beta, n);
        expectClose(readF32(y, n), ref.add(a, b, alpha, beta), POINTWISE);
      });
    }
    test(`mul_forward n=${n}`, () => {
      const a = rand(n, 3);
      const b = rand(n, 4);
      const y = empty(n);
      kernels.mul_forward(y, f32(a), f32(b), 'float32', n);
      expectClose(readF32(y, n), ref.mul(a, b), POINTWISE);
    });
    test(`scale_forward n=${n} alpha=-1.7`, () => {
      const x = rand(n, 5);
      const y = empty(n);
      kernels.scale_forward(y, f32(x), 'float32', -1.7, n);
      expectClose(readF32(y, n), ref.scale(x, Math.fround(-1.7)), POINTWISE);
    });
    test(`scalar_broadcast_forward n=${n} alpha=0.25`, () => {
      const y = empty(n);
      kernels.scalar_broadcast_forward(y, f32([3]), 'float32', 0.25, n);
      expectClose(readF32(y, n), ref.scalarBroadcast(3, 0.25, n), POINTWISE);
    });
  }

  // y aliasing an input (tolerance as above).
  test('add_forward in place (y = a) n=70000 alpha=1 beta=-0.5', () => {
    const a = rand(70_000, 6);
    const b = rand(70_000, 7);
    const ya = f32(a);
    kernels.add_forward(ya, ya, f32(b), 'float32', 1, -0.5, a.length);
    expectClose(readF32(ya, a.length), ref.add(a, b, 1, -0.5), POINTWISE);
  });

  test('mul_forward in place (y = b) n=513', () => {
    const a = rand(513, 8);
    const b = rand(513, 9);
    const yb = f32(b);
    kernels.mul_forward(yb, f32(a), yb, 'float32', 513);
    expectClose(readF32(yb, 513), ref.mul(a, b), POINTWISE);
  });

  test('scalar_broadcast_forward in place (y = s) n=9', () => {
    const s = f32([2, 0, 0, 0, 0, 0, 0, 0, 0]);
    kernels.scalar_broadcast_forward(s, s, 'float32', -3, 9);
    expectClose(readF32(s, 9), ref.scalarBroadcast(2, -3, 9), POINTWISE);
  });
});

// (outer, channels, inner): conv bias on NCHW, linear bias (inner = 1), a single channel, large.
const CHANNEL_CONFIGS: [number, number, number][] = [
  [2, 3, 5],
  [16, 1000, 1],
  [3, 1, 17],
  [8, 64, 49],
  [32, 16, 256],
];

describe('per-channel ops', () => {
  for (const [outer, channels, inner] of CHANNEL_CONFIGS) {
    const n = outer * channels * inner;
    const cfg = `outer=${outer} channels=${channels} inner=${inner}`;
    test(`bias_add_forward ${cfg}`, () => {
      const x = rand(n, 10);
      const bias = rand(channels, 11);
      const y = empty(n);
      kernels.bias_add_forward(y, f32(x), f32(bias), 'float32', outer, channels, inner);
      expectClose(readF32(y, n), ref.biasAdd(x, bias, outer, channels, inner), POINTWISE);
    });
    test(`bias_add_backward ${cfg}`, () => {
      const dy = rand(n, 12);
      const db = empty(channels);
      kernels.bias_add_backward(db, f32(dy), 'float32', outer, channels, inner);
      expectClose(readF32(db, channels), ref.biasAddBackward(dy, outer, channels, inner), CHANNEL_SUM);
    });
    test(`channel_mul_forward ${cfg}`, () => {
      const x = rand(n, 13);
      const s = rand(channels, 14);
      const y = empty(n);
      kernels.channel_mul_forward(y, f32(x), f32(s), 'float32', outer, channels, inner);
      expectClose(readF32(y, n), ref.channelMul(x, s, outer, channels, inner), POINTWISE);
    });
    test(`channel_mul_backward_scale ${cfg}`, () => {
      const dy = rand(n, 15);
      const x = rand(n, 16);
      const ds = empty(channels);
      kernels.channel_mul_backward_scale(ds, f32(dy), f32(x), 'float32', outer, channels, inner);
      expectClose(readF32(ds, channels), ref.channelMulBackwardScale(dy, x, outer, channels, inner), CHANNEL_SUM);
    });
  }

  test('bias_add_forward in place (y = x) outer=4 channels=8 inner=9', () => {
    const x = rand(288, 17);
    const bias = rand(8, 18);
    const yx = f32(x);
    kernels.bias_add_forward(yx, yx, f32(bias), 'float32', 4, 8, 9);
    expectClose(readF32(yx, 288), ref.biasAdd(x, bias, 4, 8, 9), POINTWISE);
  });

  // The backward references against central differences of the forward references (float64,
  // eps 1e-6: truncation error ~1e-12, rounding ~1e-10 for these O(1) losses).
  test('reference backward of bias_add and channel_mul vs finite differences outer=3 channels=4 inner=5', () => {
    const [outer, channels, inner] = [3, 4, 5];
    const n = outer * channels * inner;
    const x = randn(n, 20);
    const v = randn(channels, 21);
    const r = randn(n, 22);
    const fd = { atol: 1e-7, rtol: 1e-7 };
    expectClose(ref.biasAddBackward(r, outer, channels, inner),
      numericGradient((b) => dot(ref.biasAdd(x, b, outer, channels, inner), r), v), fd, 'dbias');
    expectClose(ref.channelMulBackwardScale(r, x, outer, channels, inner),
      numericGradient((s) => dot(ref.channelMul(x, s, outer, channels, inner), r), v), fd, 'dscale');
    expectClose(ref.channelMul(r, v, outer, channels, inner),
      numericGradient((xx) => dot(ref.channelMul(xx, v, outer, channels, inner), r), x), fd, 'dx = channel_mul(dy, scale)');
  });
});

describe('argument errors', () => {
  test('add_forward with a buffer smaller than n fails with ERR_SHAPE', () => {
    expect(() => kernels.add_forward(empty(10), f32(new Float32Array(10)), f32(new Float32Array(9)), 'float32', 1, 1, 10)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });
  test('bias_add_forward with a short bias fails with ERR_SHAPE', () => {
    expect(() => kernels.bias_add_forward(empty(24), f32(new Float32Array(24)), f32([1, 2]), 'float32', 2, 3, 4)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });
});
