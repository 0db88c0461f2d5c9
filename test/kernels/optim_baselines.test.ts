// Baseline kernels against float64 references: multi_reduce_sum_squares (rtol 1e-7: double
// accumulation), multi_axpby (rtol 1e-6: one float32 multiply-add), lamb_direction (rtol 1e-5:
// float32 moments, sqrt and division), over tensors of several sizes including an empty one and
// one spanning several 65,536-element chunks.
import { describe, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { empty, f32, kernels, readF32 } from '../helpers/native';
import { randn, randu } from '../helpers/random';
import * as ref from '../reference/optim_baselines';

const SIZES = [5, 0, 1000, 140_001];
const rand = (n: number, seed: number) => Float32Array.from(randn(n, seed));

describe('baseline kernels', () => {
  test(`multi_reduce_sum_squares sizes=${SIZES.join(',')}`, () => {
    const xs = SIZES.map((n, t) => rand(n, t + 1));
    const scales = SIZES.map((n) => (n > 0 ? 1 / n : 1));
    const out = empty(xs.length);
    kernels.multi_reduce_sum_squares(out, xs.map(f32), SIZES, scales, xs.length);
    expectClose(readF32(out, xs.length), ref.multiSumSquares(xs, scales), { atol: 1e-30, rtol: 1e-7 });
  });

  test(`multi_axpby sizes=${SIZES.join(',')} with beta=0 and beta!=0`, () => {
    const ys = SIZES.map((n, t) => rand(n, t + 10));
    const xs = SIZES.map((n, t) => rand(n, t + 20));
    const alphas = [0.5, 2, -1, 0.001];
    const betas = [0, 1.5, -0.25, 3];
    const yb = ys.map(f32);
    kernels.multi_axpby(yb, xs.map(f32), SIZES, alphas, betas, SIZES.length);
    SIZES.forEach((n, t) => expectClose(readF32(yb[t], n), ref.axpby(ys[t], xs[t], alphas[t], betas[t]), { atol: 1e-6, rtol: 1e-6 }, `tensor ${t}`));
  });

  test(`lamb_direction step=3 wd per tensor sizes=${SIZES.join(',')}`, () => {
    const o = { beta1: 0.9, beta2: 0.999, eps: 1e-6, step: 3 };
    const wds = [0.01, 0, 1.5, 0.1];
    const g = SIZES.map((n, t) => rand(n, t + 30));
    const m = SIZES.map((n, t) => rand(n, t + 40).map((v) => v * 0.1));
    const v = SIZES.map((n, t) => Float32Array.from(randu(n, t + 50, 0, 0.01)));
    const w = SIZES.map((n, t) => rand(n, t + 60));
    const [gb, mb, vb] = [g.map(f32), m.map(f32), v.map(f32)];
    const bc1 = 1 - o.beta1 ** o.step;
    const bc2 = 1 - o.beta2 ** o.step;
    kernels.lamb_direction(gb, mb, vb, w.map(f32), SIZES, wds, SIZES.length, o.beta1, o.beta2, o.eps, bc1, bc2);
    SIZES.forEach((n, t) => {
      const r = ref.lambDirection(g[t], m[t], v[t], w[t], { ...o, weightDecay: wds[t] });
      expectClose(readF32(mb[t], n), r.m, { atol: 1e-7, rtol: 1e-5 }, `m ${t}`);
      expectClose(readF32(vb[t], n), r.v, { atol: 1e-9, rtol: 1e-5 }, `v ${t}`);
      expectClose(readF32(gb[t], n), r.r, { atol: 1e-5, rtol: 1e-4 }, `r ${t}`);
    });
  });
});
