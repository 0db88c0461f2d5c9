// multi_unscale_found_inf (native/cpu/optim_amp.cc): torch's _amp_foreach_non_finite_check_and_unscale_
// over several tensors spanning 65,536-element chunks: g = float32(g * inv_scale) element for element,
// found_inf set by any NaN / +inf / -inf and never cleared, and inv_scale = 1 a check that writes
// nothing (non-finite values keep their bits).
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/compare';
import { f32, kernels, readF32 } from '../helpers/native';
import { randn } from '../helpers/random';

const NUMELS = [3, 70_000, 0, 131_075];
const grads = (seed: number): Float32Array[] => NUMELS.map((n, t) => Float32Array.from(randn(n, seed * 10 + t, 1000)));
const EXACT = { atol: 0, rtol: 0 };

describe('multi_unscale_found_inf', () => {
  test('finite gradients: g *= inv_scale exactly, the flag stays clear', () => {
    const g = grads(1);
    const inv = Math.fround(1 / 65536);
    const bufs = g.map((x) => f32(x));
    const flag = f32([0]);
    kernels.multi_unscale_found_inf(bufs, flag, NUMELS, NUMELS.length, inv);
    bufs.forEach((b, t) => expectClose(readF32(b, NUMELS[t]), g[t].map((v) => Math.fround(v * inv)), EXACT, `grads[${t}]`));
    expect(readF32(flag, 1)[0]).toBe(0);
  });

  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    test(`a ${bad} in the last chunk of one tensor sets the flag`, () => {
      const g = grads(2);
      g[3][131_074] = bad;
      const flag = f32([0]);
      kernels.multi_unscale_found_inf(g.map((x) => f32(x)), flag, NUMELS, NUMELS.length, 0.5);
      expect(readF32(flag, 1)[0]).toBe(1);
    });
  }

  test('the flag is only ever set, never cleared', () => {
    const flag = f32([1]);
    kernels.multi_unscale_found_inf(grads(3).map((x) => f32(x)), flag, NUMELS, NUMELS.length, 0.25);
    expect(readF32(flag, 1)[0]).toBe(1);
  });

  test('inv_scale = 1 only checks: the gradients keep their bits', () => {
    const g = grads(4);
    g[1][5] = Number.NaN;
    const bufs = g.map((x) => f32(x));
    const flag = f32([0]);
    kernels.multi_unscale_found_inf(bufs, flag, NUMELS, NUMELS.length, 1);
    bufs.forEach((b, t) => expect(new Uint32Array(readF32(b, NUMELS[t]).buffer)).toEqual(new Uint32Array(g[t].buffer)));
    expect(readF32(flag, 1)[0]).toBe(1);
  });
});
