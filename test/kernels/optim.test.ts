// Fused optimizer steps (native/cpu/optim.cc) against test/reference/optim.ts: the float64 update
// rules (tolerance beside each test) and, bit for bit, the float32 operation sequence of PyTorch's
// single-tensor torch.optim.SGD / AdamW. Tensor sizes span several 65,536-element chunks and
// include an empty tensor; every tensor has its own lr (lr * lr_scales[t], the layer-wise eta, read
// from a device array) and weight decay. The fused float16 scaling: a set found_inf flag leaves
// every element untouched, and inv_scale gives exactly the step on float32(grad * inv_scale).
import { describe, expect, test } from 'vitest';
import type { NativeBuffer } from '../../src/native/addon';
import { expectClose } from '../helpers/compare';
import { f32, kernels, readF32 } from '../helpers/native';
import { randn, randu } from '../helpers/random';
import * as ref from '../reference/optim';

const NUMELS = [0, 5, 70_000, 131_075, 1];
const LR = 0.1;
const SCALES = [1, 0.5, 2, 0.1, 15];
/** The per-tensor lr the kernels compute: lr * float32(scale), in double. */
const LRS = SCALES.map((s) => LR * Math.fround(s));
const rand = (n: number, seed: number, std = 1): Float32Array => Float32Array.from(randn(n, seed, std));
const tensors = (seed: number, std = 1): Float32Array[] => NUMELS.map((n, t) => rand(n, seed * 100 + t, std));
const read = (bufs: NativeBuffer[]): Float32Array[] => bufs.map((b, t) => readF32(b, NUMELS[t]));
const EXACT = { atol: 0, rtol: 0 };

function expectAll(got: Float32Array[], want: ArrayLike<number>[], tol: { atol: number; rtol: number }, label: string): void {
  got.forEach((g, t) => expectClose(g, want[t], tol, `${label}[${t}]`));
}

interface SgdCase extends ref.SgdOptions {
  wd: number;
}

const SGD_CASES: SgdCase[] = [
  { momentum: 0, dampening: 0, nesterov: false, firstStep: false, wd: 0 },
  { momentum: 0, dampening: 0, nesterov: false, firstStep: false, wd: 5e-4 },
  { momentum: 0.9, dampening: 0, nesterov: false, firstStep: true, wd: 5e-4 },
  { momentum: 0.9, dampening: 0, nesterov: false, firstStep: false, wd: 5e-4 },
  { momentum: 0.9, dampening: 0.1, nesterov: false, firstStep: false, wd: 0 },
  { momentum: 0.9, dampening: 0, nesterov: true, firstStep: true, wd: 1e-4 },
  { momentum: 0.9, dampening: 0, nesterov: true, firstStep: false, wd: 1e-4 },
];

describe('sgd_step', () => {
  for (const c of SGD_CASES) {
    const cfg = `momentum=${c.momentum} dampening=${c.dampening} nesterov=${c.nesterov} first_step=${c.firstStep} wd=${c.wd}`;
    test(`sgd_step ${cfg} numels=[${NUMELS.join(',')}]`, () => {
      const [p, g, b] = [tensors(1), tensors(2, 0.1), tensors(3, 0.1)];
      const wds = NUMELS.map(() => c.wd);
      const params = p.map((x) => f32(x));
      const buffers = c.momentum !== 0 ? b.map((x) => f32(x)) : [];
      kernels.sgd_step(params, g.map((x) => f32(x)), buffers, f32(SCALES), null, NUMELS, wds, NUMELS.length, LR, c.momentum, c.dampening, c.nesterov, c.firstStep, 1);
      const got = read(params);
      const exact = ref.sgdStepF32(p, g, b, LRS, wds, c);
      expectAll(got, exact.params, EXACT, 'params vs PyTorch float32');
      // float64 rule: each float32 operation rounds once, ~1e-7 relative, lr * (|g| + |buf|) absolute.
      expectAll(got, ref.sgdStep(p, g, b, LRS, wds, c).params, { atol: 1e-6, rtol: 1e-6 }, 'params vs float64');
      if (c.momentum !== 0) {
        const gotBuf = read(buffers);
        expectAll(gotBuf, exact.buffers, EXACT, 'momentum_buffers vs PyTorch float32');
        expectAll(gotBuf, ref.sgdStep(p, g, b, LRS, wds, c).buffers, { atol: 1e-7, rtol: 1e-6 }, 'momentum_buffers vs float64');
      }
    });
  }

  test('sgd_step with inv_scale and a clear found_inf equals the step on float32(grad * inv_scale)', () => {
    const c = SGD_CASES[3];
    const inv = Math.fround(1 / 1024);
    const [p, g, b] = [tensors(11), tensors(12, 100), tensors(13, 0.1)];
    const wds = NUMELS.map(() => c.wd);
    const [params, buffers] = [p.map((x) => f32(x)), b.map((x) => f32(x))];
    kernels.sgd_step(params, g.map((x) => f32(x)), buffers, f32(SCALES), f32([0]), NUMELS, wds, NUMELS.length, LR, c.momentum, c.dampening, c.nesterov, c.firstStep, inv);
    const unscaled = g.map((x) => x.map((v) => Math.fround(v * inv)));
    const exact = ref.sgdStepF32(p, unscaled, b, LRS, wds, c);
    expectAll(read(params), exact.params, EXACT, 'params vs PyTorch float32 on unscaled gradients');
    expectAll(read(buffers), exact.buffers, EXACT, 'momentum_buffers vs PyTorch float32 on unscaled gradients');
  });

  test('sgd_step with found_inf set touches nothing', () => {
    const [p, g, b] = [tensors(14), tensors(15, 0.1), tensors(16, 0.1)];
    const [params, buffers] = [p.map((x) => f32(x)), b.map((x) => f32(x))];
    kernels.sgd_step(params, g.map((x) => f32(x)), buffers, f32(SCALES), f32([1]), NUMELS, NUMELS.map(() => 1e-4), NUMELS.length, LR, 0.9, 0, false, true, 0.5);
    expectAll(read(params), p, EXACT, 'params');
    expectAll(read(buffers), b, EXACT, 'momentum_buffers');
  });

  test('sgd_step with momentum and no buffers is an error', () => {
    expect(() => kernels.sgd_step([f32([1])], [f32([1])], [], f32([1]), null, [1], [0], 1, 0.1, 0.9, 0, false, false, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_NATIVE_INVALID_ARGUMENT', op: 'sgd_step' }),
    );
  });

  test('sgd_step with a gradient shorter than its numel fails with ERR_SHAPE', () => {
    expect(() => kernels.sgd_step([f32([1, 2])], [f32([1])], [], f32([1]), null, [2], [0], 1, 0.1, 0, 0, false, false, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });

  test('sgd_step with lr_scales shorter than num_tensors fails with ERR_SHAPE naming lr_scales', () => {
    expect(() => kernels.sgd_step([f32([1]), f32([2])], [f32([1]), f32([1])], [], f32([1]), null, [1, 1], [0, 0], 2, 0.1, 0, 0, false, false, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE', message: expect.stringMatching(/lr_scales/) }),
    );
  });
});

interface AdamCase {
  beta1: number;
  beta2: number;
  step: number;
  wd: number;
}

// beta1 = 0.9 uses lerp's small-weight branch (w = 0.1), beta1 = 0.3 the other (w = 0.7).
const ADAM_CASES: AdamCase[] = [
  { beta1: 0.9, beta2: 0.999, step: 1, wd: 0.05 },
  { beta1: 0.9, beta2: 0.999, step: 10, wd: 0.05 },
  { beta1: 0.3, beta2: 0.99, step: 3, wd: 0 },
];

describe('adamw_step', () => {
  for (const c of ADAM_CASES) {
    const cfg = `beta1=${c.beta1} beta2=${c.beta2} step=${c.step} wd=${c.wd}`;
    test(`adamw_step ${cfg} numels=[${NUMELS.join(',')}]`, () => {
      const [p, g, m] = [tensors(4), tensors(5, 0.1), tensors(6, 0.01)];
      const v = NUMELS.map((n, t) => Float32Array.from(randu(n, 700 + t, 0, 1e-3)));
      const o: ref.AdamWOptions = {
        beta1: c.beta1,
        beta2: c.beta2,
        eps: 1e-8,
        biasCorrection1: 1 - c.beta1 ** c.step,
        biasCorrection2: 1 - c.beta2 ** c.step,
      };
      const wds = NUMELS.map(() => c.wd);
      const [params, expAvgs, expAvgSqs] = [p.map((x) => f32(x)), m.map((x) => f32(x)), v.map((x) => f32(x))];
      kernels.adamw_step(params, g.map((x) => f32(x)), expAvgs, expAvgSqs, f32(SCALES), null, NUMELS, wds, NUMELS.length,
        LR, o.beta1, o.beta2, o.eps, o.biasCorrection1, o.biasCorrection2, 1);
      const exact = ref.adamwStepF32(p, g, m, v, LRS, wds, o);
      const [gotP, gotM, gotV] = [read(params), read(expAvgs), read(expAvgSqs)];
      expectAll(gotP, exact.params, EXACT, 'params vs PyTorch float32');
      expectAll(gotM, exact.buffers, EXACT, 'exp_avg vs PyTorch float32');
      expectAll(gotV, exact.expAvgSqs, EXACT, 'exp_avg_sq vs PyTorch float32');
      // float64 rule: the update is at most lr / bc1 * |m| / (sqrt(v)/sqrt(bc2) + eps) ~ lr * O(10);
      // a few float32 roundings of it and of the decayed parameter.
      const f64 = ref.adamwStep(p, g, m, v, LRS, wds, o);
      expectAll(gotP, f64.params, { atol: 5e-6, rtol: 1e-6 }, 'params vs float64');
      // exp_avg ~ 0.01: float32(1 - beta1) and g - m (|g| ~ 0.1) round at ~1e-8 relative: 5e-9 absolute.
      expectAll(gotM, f64.buffers, { atol: 5e-9, rtol: 1e-6 }, 'exp_avg vs float64');
      expectAll(gotV, f64.expAvgSqs, { atol: 1e-12, rtol: 1e-6 }, 'exp_avg_sq vs float64');
    });
  }

  test('adamw_step with inv_scale equals the step on float32(grad * inv_scale); a set found_inf touches nothing', () => {
    const inv = Math.fround(1 / 65536);
    const [p, g, m] = [tensors(17), tensors(18, 1000), tensors(19, 0.01)];
    const v = NUMELS.map((n, t) => Float32Array.from(randu(n, 900 + t, 0, 1e-3)));
    const o: ref.AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection1: 1 - 0.9 ** 2, biasCorrection2: 1 - 0.999 ** 2 };
    const wds = NUMELS.map(() => 0.05);
    const run = (flag: number) => {
      const bufs = [p.map((x) => f32(x)), m.map((x) => f32(x)), v.map((x) => f32(x))];
      kernels.adamw_step(bufs[0], g.map((x) => f32(x)), bufs[1], bufs[2], f32(SCALES), f32([flag]), NUMELS, wds, NUMELS.length,
        LR, o.beta1, o.beta2, o.eps, o.biasCorrection1, o.biasCorrection2, inv);
      return bufs.map(read);
    };
    const exact = ref.adamwStepF32(p, g.map((x) => x.map((e) => Math.fround(e * inv))), m, v, LRS, wds, o);
    const [gotP, gotM, gotV] = run(0);
    expectAll(gotP, exact.params, EXACT, 'params vs PyTorch float32 on unscaled gradients');
    expectAll(gotM, exact.buffers, EXACT, 'exp_avg vs PyTorch float32 on unscaled gradients');
    expectAll(gotV, exact.expAvgSqs, EXACT, 'exp_avg_sq vs PyTorch float32 on unscaled gradients');
    const [skipP, skipM, skipV] = run(1);
    expectAll(skipP, p, EXACT, 'params (skipped)');
    expectAll(skipM, m, EXACT, 'exp_avg (skipped)');
    expectAll(skipV, v, EXACT, 'exp_avg_sq (skipped)');
  });

  test('adamw_step with a non-positive bias correction is an error naming the op', () => {
    expect(() => kernels.adamw_step([f32([1])], [f32([1])], [f32([0])], [f32([0])], f32([1]), null, [1], [0], 1, 0.1, 0.9, 0.999, 1e-8, 0, 1, 1)).toThrow(
      /adamw_step.*bias_correction1=0/,
    );
  });
});
