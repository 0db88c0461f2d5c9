// Comparisons shared by the model parity tests (test/models/*): a fixture's timm/torchvision state
// dict, float32 comparison relative to each tensor's largest magnitude, and the bfloat16 bounds
// (every element within elem * max|expected| + elem * |expected|, and a relative L2 error bound).
import { expect } from 'vitest';
import type { Tensor } from '../../src/tensor';
import type { Fixture } from './fixtures';

/** The fixture's `state.*` entries: timm's / torchvision's state dict under their names. */
export function fixtureState(fx: Fixture): Map<string, Tensor> {
  const state = new Map<string, Tensor>();
  for (const name of fx.entries.keys()) if (name.startsWith('state.')) state.set(name.slice(6), fx.tensor(name));
  return state;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** Every |actual - expected| <= rel * max|expected| (float32 parity; default 1e-4). */
export function expectRel(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rel = 1e-4): void {
  expect(actual.length, what).toBe(expected.length);
  const peak = maxAbs(expected);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) [worst, at] = [d, i];
  }
  expect(worst, `${what}: element ${at} got ${actual[at]} expected ${expected[at]} (max |expected| ${peak})`).toBeLessThanOrEqual(rel * peak + 1e-12);
}

/** bfloat16 parity: elements within elem * (max|expected| + |expected|), relative L2 error <= l2. */
export function expectBf16(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, l2 = 3e-2, elem = 5e-2): void {
  expect(actual.length, what).toBe(expected.length);
  const peak = maxAbs(expected);
  let num = 0;
  let den = 0;
  let bad = -1;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i] - expected[i]) ** 2;
    den += expected[i] ** 2;
    if (bad < 0 && !(Math.abs(actual[i] - expected[i]) <= elem * peak + elem * Math.abs(expected[i]))) bad = i;
  }
  expect(bad, `${what}: element ${bad} got ${actual[bad]} expected ${expected[bad]} (max |expected| ${peak})`).toBe(-1);
  expect(Math.sqrt(num / Math.max(den, 1e-30)), `${what}: relative L2 error`).toBeLessThanOrEqual(l2);
}
