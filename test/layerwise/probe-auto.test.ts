// The probe's convergence rule (--probe-steps auto): it stops early on an easy case with the very
// eta (same G, bit for bit) of a fixed-T probe of that T, it never runs past its cap, it reads the
// device no more often than a fixed probe, its running eta follows the degenerate rule, and
// invalid settings are errors naming the setting.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { Tensor, manualSeed, scope } from '../../src/index';
import { EtaConvergence, maxRelativeChange, probe, type ProbeBatch } from '../../src/layerwise';
import { MLP } from '../../src/models/mlp';
import { resolveConfig } from '../../src/train/config';
import { randint, randn } from '../helpers/random';

function batch(t: number, noise = 1): ProbeBatch {
  // Batch t: 16 samples of 12 features; a fixed signal plus noise of the given size, seeded by t.
  const signal = randn(16 * 12, 99);
  const x = randn(16 * 12, 1000 + t).map((v, i) => signal[i] + noise * v);
  return { images: Tensor.fromArray(x, [16, 12]), labels: Tensor.fromArray(randint(16, 4, 7), [16], { dtype: 'int32' }) };
}

afterEach(() => vi.restoreAllMocks());

describe('probe --probe-steps auto', () => {
  test('stops early on an easy case; eta and G equal a fixed-T probe of that T bit for bit', () =>
    scope(() => {
      manualSeed(3);
      const model = new MLP(12, 8, 4);
      const converge = { tol: 0.01, window: 5, minSteps: 10 };
      const auto = probe(model, (t) => batch(t, 0.1), { steps: 200, converge });
      expect(auto.stopped).toBe('converged');
      expect(auto.steps).toBeGreaterThanOrEqual(10);
      expect(auto.steps).toBeLessThan(200);
      expect(auto.change).toBeLessThan(0.01);
      const fixed = probe(model, (t) => batch(t, 0.1), { steps: auto.steps });
      expect(fixed.stopped).toBe('steps');
      expect(auto.entries).toEqual(fixed.entries);
      model.dispose();
    }));

  test('the same batch every step converges at the first check: max(minSteps, window + 1)', () =>
    scope(() => {
      const model = new MLP(12, 8, 4);
      const same = () => batch(0);
      expect(probe(model, same, { steps: 100, converge: { tol: 1e-6, window: 5, minSteps: 12 } }).steps).toBe(12);
      expect(probe(model, same, { steps: 100, converge: { tol: 1e-6, window: 20, minSteps: 3 } }).steps).toBe(21);
      model.dispose();
    }));

  test('never runs past its cap: an unreachable tolerance runs all steps and says so', () =>
    scope(() => {
      const model = new MLP(12, 8, 4);
      const r = probe(model, (t) => batch(t, 3), { steps: 30, converge: { tol: 1e-9, window: 5, minSteps: 10 } });
      expect(r.steps).toBe(30);
      expect(r.stopped).toBe('steps');
      expect(r.change).toBeGreaterThan(1e-9);
      const neverChecked = probe(model, (t) => batch(t), { steps: 8, converge: { tol: 0.5, window: 5, minSteps: 10 } });
      expect([neverChecked.steps, neverChecked.stopped, neverChecked.change]).toEqual([8, 'steps', Infinity]);
      model.dispose();
    }));

  test('reads the device once per batch, as the fixed probe does', () =>
    scope(() => {
      const model = new MLP(12, 8, 4);
      const reads = vi.spyOn(Tensor.prototype, 'toArray');
      probe(model, (t) => batch(t), { steps: 25 });
      const fixedReads = reads.mock.calls.length;
      reads.mockClear();
      const r = probe(model, (t) => batch(t), { steps: 25, converge: { tol: 1e-9, window: 5, minSteps: 10 } });
      expect(r.steps).toBe(25);
      expect(reads.mock.calls.length).toBe(fixedReads);
      expect(fixedReads).toBe(25);
      model.dispose();
    }));

  test('running eta: the normalized eta of G/t with the degenerate rule; a tensor without gradient yet is degenerate', () => {
    const rule = { tol: 0.1, window: 1, minSteps: 1 };
    const c = new EtaConvergence(['a', 'b', 'c'], [1, 3, 2], rule, {});
    const eta = c.runningEta(Float64Array.from([4, 1, 0]), 2);
    // G/t = 2, 0.5, 0 -> c degenerate (eta 1); a, b: 1/sqrt(G) scaled to the weighted mean 1 over a and b.
    const raw = [1 / Math.sqrt(2), 1 / Math.sqrt(0.5)];
    const scale = 4 / (raw[0] + 3 * raw[1]);
    expect(Array.from(eta!)).toEqual([raw[0] * scale, raw[1] * scale, 1]);
    expect(c.runningEta(Float64Array.from([0, 0, 0]), 1)).toBeNull();
    const freeze = new EtaConvergence(['a', 'b'], [1, 1], rule, { degenerate: 'freeze' });
    expect(Array.from(freeze.runningEta(Float64Array.from([1, 1e-12]), 1)!)).toEqual([1, 0]);
    expect(maxRelativeChange(Float64Array.from([1, 0, 2.2]), Float64Array.from([1, 0, 2]))).toBeCloseTo(0.1, 12);
    expect(maxRelativeChange(Float64Array.from([1]), Float64Array.from([0]))).toBe(Infinity);
  });

  test('invalid settings are errors naming the setting (API and config)', () => {
    const model = new MLP(12, 8, 4);
    const run = (converge: { tol: number; window: number; minSteps: number }) => () => probe(model, (t) => batch(t), { steps: 2, converge });
    expect(run({ tol: 0, window: 5, minSteps: 1 })).toThrow(/converge\.tol: got 0; accepted: a number in \(0, 1\)/);
    expect(run({ tol: 1.5, window: 5, minSteps: 1 })).toThrow(/converge\.tol/);
    expect(run({ tol: 0.01, window: 0, minSteps: 1 })).toThrow(/converge\.window: got 0; accepted: a positive integer/);
    expect(run({ tol: 0.01, window: 5, minSteps: 2.5 })).toThrow(/converge\.minSteps/);
    expect(() => resolveConfig({}, { probeTol: -1 })).toThrow(/--probe-tol: got -1/);
    expect(() => resolveConfig({}, { probeWindow: 0 })).toThrow(/--probe-window: got 0/);
    expect(() => resolveConfig({}, { probeMinSteps: 0 })).toThrow(/--probe-min-steps: got 0/);
    expect(() => resolveConfig({}, { probeSteps: 'soon' as unknown as number })).toThrow(/--probe-steps: got "soon"; accepted: a positive integer, 'epoch' or 'auto'/);
    expect(resolveConfig({}, { probeSteps: 'auto' })).toMatchObject({ probeSteps: 'auto', probeTol: 0.005, probeWindow: 20, probeMinSteps: 50 });
    model.dispose();
  });
});
