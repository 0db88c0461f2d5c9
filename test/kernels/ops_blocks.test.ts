// Kernels of the shared transformer / ConvNeXt ops against their float64 references:
// copy_block (native/cpu/copy.cc, test/reference/copy.ts), drop_path_forward / _backward
// (native/cpu/activation.cc, the dropout hash of test/reference/activation.ts) and
// layernorm_channels_forward / _backward (native/cpu/norm_channels.cc, test/reference/norm.ts),
// for float32, bfloat16 and float16 (inputs rounded to the dtype first; outputs carry one rounding
// to the dtype, ULP[dtype] relative on top of the float32 tolerance).
import { describe, expect, test } from 'vitest';
import { expectClose, type Tolerance } from '../helpers/compare';
import { FLOAT_DTYPES, ULP, empty, emptyOf, f32, kernels, readAs, readF32, readU8, roundTo, typed, u8, type FloatName } from '../helpers/native';
import { randn } from '../helpers/random';
import * as actRef from '../reference/activation';
import { copyBlock } from '../reference/copy';
import { dot, numericGradient } from '../reference/finite-difference';
import * as ref from '../reference/norm';

const rand = (n: number, seed: number, std = 1, mean = 0): Float32Array => Float32Array.from(randn(n, seed, std), (v) => v + mean);
const inDtype = (tol: Tolerance, dtype: FloatName): Tolerance => ({ atol: tol.atol, rtol: tol.rtol + ULP[dtype] });

describe('copy_block', () => {
  // [outer, block, srcStride, srcOffset, dstStride, dstOffset]: cat's second input, a narrow, a broadcast token.
  const CASES: [number, number, number, number, number, number][] = [
    [4, 6, 6, 0, 10, 4],
    [3, 5, 12, 7, 5, 0],
    [5, 8, 0, 0, 24, 0],
    [1, 1000, 1000, 0, 1000, 0],
    [3000, 700, 700, 0, 1400, 700], // over the parallel threshold
  ];
  for (const dtype of FLOAT_DTYPES) {
    for (const [outer, block, ss, so, ds, doff] of CASES) {
      test(`copy_block ${dtype} outer=${outer} block=${block} src ${ss}+${so} dst ${ds}+${doff}`, () => {
        const srcN = (outer - 1) * ss + so + block;
        const dstN = (outer - 1) * ds + doff + block;
        const src = roundTo(rand(srcN, 1), dtype);
        const dst0 = roundTo(rand(dstN, 2), dtype);
        const dst = typed(dst0, dtype);
        kernels.copy_block(dst, typed(src, dtype), dtype, outer, block, ss, so, ds, doff);
        expectClose(readAs(dst, dtype, dstN), copyBlock(dst0, src, outer, block, ss, so, ds, doff), { atol: 0, rtol: 0 }); // exact: a copy
      });
    }
  }
  test('copy_block int32 copies bits and leaves the rest of dst', () => {
    const dst = new Int32Array(12).fill(-1);
    const buf = u8(new Uint8Array(dst.buffer));
    kernels.copy_block(buf, u8(new Uint8Array(Int32Array.from([1, 2, 3, 4, 5, 6]).buffer)), 'int32', 2, 3, 3, 0, 6, 2);
    expect(Array.from(new Int32Array(readU8(buf, 48).buffer))).toEqual([-1, -1, 1, 2, 3, -1, -1, -1, 4, 5, 6, -1]);
  });
  test('copy_block with overlapping destination blocks is an error naming the op and sizes', () => {
    expect(() => kernels.copy_block(empty(20), empty(20), 'float32', 2, 6, 6, 0, 4, 0)).toThrow(/copy_block.*dst_stride.*block=6/);
  });
});

describe('drop_path', () => {
  // x * fround(1 / (1 - p)) in float, one rounding to the dtype (float16: subnormals round to 2^-24 steps).
  const SCALED = (dtype: FloatName): Tolerance => inDtype({ atol: dtype === 'float16' ? 2 ** -24 : 0, rtol: 1e-6 }, dtype);
  function forward(x: Float32Array, batch: number, p: number, seed: number, offset: number, dtype: FloatName = 'float32') {
    const inner = x.length / batch;
    const y = emptyOf(x.length, dtype);
    const mask = u8(new Uint8Array(batch));
    kernels.drop_path_forward(y, mask, typed(x, dtype), dtype, batch, inner, p, seed, offset);
    return { y: readAs(y, dtype, x.length), mask: readU8(mask, batch) };
  }
  for (const dtype of FLOAT_DTYPES) {
    for (const [batch, inner, p, seed, offset] of [[8, 50, 0.25, 3, 0], [64, 197 * 4, 0.1, 123456789, 40], [5, 1, 0.9, -5, 2 ** 40]]) {
      test(`drop_path_forward ${dtype} mask equals the dropout hash batch=${batch} inner=${inner} p=${p} offset=${offset}`, () => {
        const x = roundTo(rand(batch * inner, 3), dtype);
        const { y, mask } = forward(x, batch, p, seed, offset, dtype);
        const want = actRef.dropPathMask(batch, p, seed, offset);
        expect(mask).toEqual(want); // exact: the cross-backend contract
        expectClose(y, actRef.dropPath(x, want, Math.fround(p), inner), SCALED(dtype), 'y');
      });
      test(`drop_path_backward ${dtype} batch=${batch} inner=${inner} p=${p}`, () => {
        const dy = roundTo(rand(batch * inner, 4), dtype);
        const mask = actRef.dropPathMask(batch, p, seed, offset);
        const dx = emptyOf(dy.length, dtype);
        kernels.drop_path_backward(dx, typed(dy, dtype), u8(mask), dtype, batch, inner, p);
        expectClose(readAs(dx, dtype, dy.length), actRef.dropPath(dy, mask, Math.fround(p), inner), SCALED(dtype), 'dx');
      });
    }
  }
  for (const p of [0.1, 0.5]) {
    test(`drop_path keep rate within 5 sigma of 1-p batch=100000 p=${p}, whole samples kept or dropped`, () => {
      const batch = 100_000;
      const { y, mask } = forward(new Float32Array(batch * 2).fill(1), batch, p, 42, 0);
      const kept = mask.reduce((s, m) => s + m, 0);
      expect(Math.abs(kept - batch * (1 - p))).toBeLessThan(5 * Math.sqrt(batch * p * (1 - p)));
      for (let i = 0; i < 1000; i++) expect(y[2 * i]).toBe(y[2 * i + 1]);
    });
  }
  test('drop_path with p outside [0, 1] is an error naming the op', () => {
    expect(() => forward(new Float32Array(4), 2, 1.5, 0, 0)).toThrow(/drop_path_forward.*p must be in \[0, 1\]/);
  });
});

describe('layernorm_channels', () => {
  // Statistics: double sums, one rounding; y = x * a + b with a, b rounded to float32 (x mean 3, std 2).
  const STATS = { atol: 1e-7, rtol: 1e-6 };
  const OUTPUT = { atol: 2e-6, rtol: 1e-5 };
  const GRADS = { atol: 5e-6, rtol: 1e-5 };
  // (n, c, hw): tiny, one position, ConvNeXt's stem (96 channels, several 256-position tiles), odd tile tail.
  const CONFIGS: [number, number, number][] = [[2, 3, 5], [4, 7, 1], [2, 96, 600], [1, 5, 257]];
  for (const [n, c, hw] of CONFIGS) {
    for (const dtype of FLOAT_DTYPES) {
      const size = n * c * hw;
      const cfg = `${dtype} n=${n} c=${c} hw=${hw}`;
      const x = roundTo(rand(size, 20, 2, 3), dtype);
      const gamma = rand(c, 21);
      const beta = rand(c, 22);
      const eps = 1e-6;
      test(`layernorm_channels_forward ${cfg}`, () => {
        const [y, mean, rstd] = [emptyOf(size, dtype), empty(n * hw), empty(n * hw)];
        kernels.layernorm_channels_forward(y, mean, rstd, typed(x, dtype), f32(gamma), f32(beta), dtype, n, c, hw, eps);
        const want = ref.layernormChannels(x, gamma, beta, n, c, hw, Math.fround(eps));
        expectClose(readAs(y, dtype, size), want.y, inDtype(OUTPUT, dtype), 'y');
        expectClose(readF32(mean, n * hw), want.mean, STATS, 'save_mean');
        expectClose(readF32(rstd, n * hw), want.rstd, STATS, 'save_rstd');
      });
      test(`layernorm_channels_backward ${cfg}`, () => {
        const dy = roundTo(rand(size, 23), dtype);
        const s = ref.layernormChannels(x, gamma, beta, n, c, hw, Math.fround(eps));
        const [mean, rstd] = [Float32Array.from(s.mean), Float32Array.from(s.rstd)];
        const [dx, dgamma, dbeta] = [emptyOf(size, dtype), empty(c), empty(c)];
        kernels.layernorm_channels_backward(dx, dgamma, dbeta, typed(dy, dtype), typed(x, dtype), f32(gamma), f32(mean), f32(rstd), dtype, n, c, hw);
        const want = ref.layernormChannelsBackward(dy, x, gamma, mean, rstd, n, c, hw);
        expectClose(readAs(dx, dtype, size), want.dx, inDtype(GRADS, dtype), 'dx');
        // sums over up to 1200 positions of O(1) terms in double, one rounding
        expectClose(readF32(dgamma, c), want.dgamma, { atol: 1e-4, rtol: 1e-5 }, 'dgamma');
        expectClose(readF32(dbeta, c), want.dbeta, { atol: 1e-4, rtol: 1e-5 }, 'dbeta');
      });
    }
  }
  test('layernorm_channels_backward in place (dx = dy) n=2 c=4 hw=300', () => {
    const [n, c, hw] = [2, 4, 300];
    const x = rand(n * c * hw, 30);
    const dy = rand(n * c * hw, 31);
    const gamma = rand(c, 32);
    const s = ref.layernormChannels(x, gamma, new Float32Array(c), n, c, hw, Math.fround(1e-6));
    const [mean, rstd] = [Float32Array.from(s.mean), Float32Array.from(s.rstd)];
    const buf = f32(dy);
    kernels.layernorm_channels_backward(buf, empty(c), empty(c), buf, f32(x), f32(gamma), f32(mean), f32(rstd), 'float32', n, c, hw);
    expectClose(readF32(buf, dy.length), ref.layernormChannelsBackward(dy, x, gamma, mean, rstd, n, c, hw).dx, GRADS, 'dx');
  });
  test('reference backward vs finite differences n=2 c=3 hw=4', () => {
    const [n, c, hw, eps] = [2, 3, 4, 1e-5];
    const x = randn(24, 24, 2);
    const gamma = randn(c, 25);
    const beta = randn(c, 26);
    const r = randn(24, 27);
    const fd = { atol: 1e-6, rtol: 1e-6 };
    const loss = (xx: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>): number => dot(ref.layernormChannels(xx, g, b, n, c, hw, eps).y, r);
    const s = ref.layernormChannels(x, gamma, beta, n, c, hw, eps);
    const want = ref.layernormChannelsBackward(r, x, gamma, s.mean, s.rstd, n, c, hw);
    expectClose(want.dx, numericGradient((v) => loss(v, gamma, beta), x), fd, 'dx');
    expectClose(want.dgamma, numericGradient((v) => loss(x, v, beta), gamma), fd, 'dgamma');
    expectClose(want.dbeta, numericGradient((v) => loss(x, gamma, v), beta), fd, 'dbeta');
  });
});
