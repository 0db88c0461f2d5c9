// The probe (Algorithm 1) and eta: a tiny network computed by hand, the probe's invariants
// (state restored bit for bit, invariance to repeating batches, normalization), zero-gradient
// handling, and parity with a PyTorch implementation of Algorithm 1 on the same MLP and batches.
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { F, Tensor, manualSeed, nn, scope } from '../../src/index';
import { probe, weightedMeanEta, type ProbeBatch } from '../../src/layerwise';
import { MLP } from '../../src/models/mlp';
import { paperInit_ } from '../../src/nn/init';
import { FIXTURES, loadFixture } from '../helpers/fixtures';
import { randint, randn } from '../helpers/random';

function batchOf(images: ArrayLike<number>, shape: number[], labels: ArrayLike<number>): ProbeBatch {
  return { images: Tensor.fromArray(images, shape), labels: Tensor.fromArray(labels, [labels.length], { dtype: 'int32' }) };
}

describe('probe', () => {
  test('eta of Linear(2,2) on one batch of 2 equals the hand computation', () =>
    scope(() => {
      const model = new nn.Linear(2, 2);
      const W = [0.5, -0.25, 0.1, 0.3];
      const b = [0.05, -0.1];
      model.weight.copyFromHost(Float32Array.from(W));
      model.bias!.copyFromHost(Float32Array.from(b));
      const x = [1, 2, -1, 0.5];
      const y = [1, 0];
      const { entries } = probe(model, () => batchOf(x, [2, 2], y), { steps: 1 });
      // By hand: z = x W^T + b, p = softmax(z), dz = (p - onehot) / N, dW = dz^T x, db = sum_n dz.
      const dW = [0, 0, 0, 0];
      const db = [0, 0];
      for (let n = 0; n < 2; n++) {
        const z = [0, 1].map((k) => x[2 * n] * W[2 * k] + x[2 * n + 1] * W[2 * k + 1] + b[k]);
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const p = e.map((v) => v / (e[0] + e[1]));
        for (let k = 0; k < 2; k++) {
          const dz = (p[k] - (y[n] === k ? 1 : 0)) / 2;
          db[k] += dz;
          dW[2 * k] += dz * x[2 * n];
          dW[2 * k + 1] += dz * x[2 * n + 1];
        }
      }
      const GW = dW.reduce((s, v) => s + Math.abs(v), 0) / 4;
      const Gb = (Math.abs(db[0]) + Math.abs(db[1])) / 2;
      const scale = 6 / (4 / Math.sqrt(GW) + 2 / Math.sqrt(Gb));
      expect(entries.map((e) => e.name)).toEqual(['weight', 'bias']);
      expect(entries[0].G).toBeCloseTo(GW, 6);
      expect(entries[1].G).toBeCloseTo(Gb, 6);
      expect(entries[0].eta).toBeCloseTo(scale / Math.sqrt(GW), 5);
      expect(entries[1].eta).toBeCloseTo(scale / Math.sqrt(Gb), 5);
      model.dispose();
    }));

  test('parameters, BatchNorm buffers, gradients and train/eval mode are restored bit for bit', () =>
    scope(() => {
      manualSeed(1);
      const model = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(),
        new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(4, 3));
      model.eval();
      const before = [...model.stateDict()].map(([k, t]) => [k, Array.from(t.toArray())] as const);
      const result = probe(model, (t) => batchOf(randn(2 * 36, 10 + t), [2, 1, 6, 6], randint(2, 3, t)), { steps: 4 });
      const after = [...model.stateDict()].map(([k, t]) => [k, Array.from(t.toArray())] as const);
      expect(after).toEqual(before);
      expect(model.training).toBe(false);
      expect(model.parameters().every((p) => p.grad === null)).toBe(true);
      expect(result.steps).toBe(4);
      expect(result.seconds).toBeGreaterThan(0);
      expect(weightedMeanEta(result.entries)).toBeCloseTo(1, 12);
      model.dispose();
    }));

  test('eta is invariant to repeating the same batch T times (T=1 vs T=3), mean and sum', () =>
    scope(() => {
      manualSeed(2);
      const model = new MLP(16, 8, 4);
      const images = randn(5 * 16, 3);
      const labels = randint(5, 4, 4);
      for (const reduce of ['mean', 'sum'] as const) {
        const one = probe(model, () => batchOf(images, [5, 16], labels), { steps: 1, reduce }).entries;
        const three = probe(model, () => batchOf(images, [5, 16], labels), { steps: 3, reduce }).entries;
        one.forEach((e, i) => expect(three[i].eta).toBeCloseTo(e.eta, 10));
        one.forEach((e, i) => expect(three[i].G / e.G).toBeCloseTo(3, 5));
      }
      model.dispose();
    }));

  test('a parameter that gets no gradient is an error naming it; with the fallback it gets eta 1', () =>
    scope(() => {
      const model = new nn.Sequential(new nn.Linear(3, 2), new nn.Linear(5, 5));
      const unused = (m: nn.Module, b: ProbeBatch) => F.crossEntropy((m as nn.Sequential).at(0).call(b.images), b.labels);
      const batch = () => batchOf([1, 2, 3, 4, 5, 6], [2, 3], [0, 1]);
      expect(() => probe(model, batch, { steps: 1, loss: unused })).toThrow(/1\.weight, 1\.bias received no gradient/);
      const { entries } = probe(model, batch, { steps: 1, loss: unused, zeroGradient: 'fallback' });
      expect(entries.slice(2).map((e) => [e.eta, e.degenerate])).toEqual([[1, 'zero-gradient'], [1, 'zero-gradient']]);
      expect(weightedMeanEta(entries)).toBeCloseTo(1, 12);
      model.dispose();
    }));

  test('MLP 784-32-10, T=3 batches of 8: G and eta match PyTorch Algorithm 1 (rel 1e-5)', () =>
    scope(() => {
      const fx = loadFixture(path.join(FIXTURES, 'layerwise', 'probe_mlp.safetensors'));
      const model = new MLP(784, 32, 10);
      model.loadStateDict(new Map(model.namedParameters().map(([n]) => [n, fx.tensor(`param.${n}`)])));
      const { entries } = probe(model, (t) => ({ images: fx.tensor(`batch.${t}.images`), labels: fx.tensor(`batch.${t}.labels`) }), { steps: 3 });
      const names: string[] = JSON.parse(fx.metadata.names);
      expect(entries.map((e) => e.name)).toEqual(names);
      for (const e of entries) {
        const G = fx.floats(`G.${e.name}`)[0];
        const eta = fx.floats(`eta.${e.name}`)[0];
        expect(Math.abs(e.G - G) / G, `G of ${e.name}`).toBeLessThan(1e-5);
        expect(Math.abs(e.eta - eta) / eta, `eta of ${e.name}`).toBeLessThan(1e-5);
      }
      model.dispose();
    }));

  test('paperInit: weights N(0, 1/fan_out) by role, biases 0, norm scales 1; seeded', () =>
    scope(() => {
      const model = new nn.Sequential(new nn.Conv2d(8, 64, 3, { groups: 8 }), new nn.BatchNorm2d(64), new nn.Linear(64, 300));
      paperInit_(model.parameters(), { seed: 5 });
      const [w, b, g, beta, fw] = model.parameters();
      const std = (t: Tensor) => Math.sqrt(Array.from(t.toArray()).reduce((s, v) => s + v * v, 0) / t.numel);
      expect(std(w)).toBeCloseTo(Math.sqrt(1 / (64 * 9)), 2);
      expect(std(fw)).toBeCloseTo(Math.sqrt(1 / 300), 2);
      expect(Array.from(b.toArray()).every((v) => v === 0)).toBe(true);
      expect(Array.from(g.toArray()).every((v) => v === 1)).toBe(true);
      expect(Array.from(beta.toArray()).every((v) => v === 0)).toBe(true);
      const first = Array.from(w.toArray());
      paperInit_(model.parameters(), { seed: 5, fanOut: 'grouped' });
      expect(std(w)).toBeCloseTo(Math.sqrt(1 / (8 * 9)), 2);
      paperInit_(model.parameters(), { seed: 5 });
      expect(Array.from(w.toArray())).toEqual(first);
      model.dispose();
    }));
});
