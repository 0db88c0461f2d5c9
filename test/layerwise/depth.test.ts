// The depth-linear baselines (src/layerwise/depth.ts, paper Fig. 1): normalization to a
// parameter-weighted mean of 1, the endpoint ratios 0.1:1 and 2:1 before normalization, linear and
// monotone in namedParameters order, G = NaN (no probe), and the errors.
import { describe, expect, it } from 'vitest';
import { depthEta } from '../../src/layerwise/depth';
import { weightedMeanEta } from '../../src/layerwise/eta';
import { MLP } from '../../src/models/mlp';

const named = [10, 3, 200, 7, 1, 50].map((numel, i) => [`t${i}`, { numel }] as const);

describe.each([
  ['increasing', 0.1, 1],
  ['decreasing', 2, 1],
] as const)('depthEta %s', (profile, first, last) => {
  const e = depthEta(named, profile);

  it(`normalized: sum m_i eta_i / sum m_i = 1 (1e-12), names and numels kept, G = NaN`, () => {
    expect(weightedMeanEta(e)).toBeCloseTo(1, 12);
    expect(e.map((x) => [x.name, x.numel])).toEqual(named.map(([n, p]) => [n, p.numel]));
    for (const x of e) expect(x.G).toBeNaN();
    for (const x of e) expect(x.degenerate).toBeUndefined();
  });

  it(`endpoints ${first}:${last} before normalization, linear in position (1e-12)`, () => {
    expect(e[0].eta / e[e.length - 1].eta).toBeCloseTo(first / last, 12);
    const step = e[1].eta - e[0].eta;
    for (let i = 1; i < e.length; i++) expect(e[i].eta - e[i - 1].eta).toBeCloseTo(step, 12);
    const scale = e[e.length - 1].eta / last;
    e.forEach((x, i) => expect(x.eta / scale).toBeCloseTo(first + ((last - first) * i) / (e.length - 1), 12));
  });

  it(`strictly ${profile === 'increasing' ? 'increasing' : 'decreasing'} with depth`, () => {
    for (let i = 1; i < e.length; i++) {
      if (profile === 'increasing') expect(e[i].eta).toBeGreaterThan(e[i - 1].eta);
      else expect(e[i].eta).toBeLessThan(e[i - 1].eta);
    }
  });
});

describe('depthEta on a model and edge cases', () => {
  it('MLP 784-32-10: the four tensors in namedParameters order, increasing', () => {
    const model = new MLP(784, 32, 10);
    const e = depthEta(model.namedParameters(), 'increasing');
    expect(e.map((x) => x.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(e.map((x) => x.numel)).toEqual([784 * 32, 32, 320, 10]);
    // raw 0.1, 0.4, 0.7, 1.0; scale = sum m / sum m*raw.
    const raw = [0.1, 0.4, 0.7, 1];
    const scale = e.reduce((s, x) => s + x.numel, 0) / e.reduce((s, x, i) => s + x.numel * raw[i], 0);
    e.forEach((x, i) => expect(x.eta).toBeCloseTo(raw[i] * scale, 12));
    model.dispose();
  });

  it('a single tensor gets eta 1', () => {
    expect(depthEta([['w', { numel: 5 }]], 'decreasing')).toEqual([{ name: 'w', numel: 5, G: NaN, eta: 1 }]);
  });

  it('errors name the function and the bad value', () => {
    expect(() => depthEta([], 'increasing')).toThrow(/depthEta: no parameter tensors/);
    expect(() => depthEta(named, 'flat' as 'increasing')).toThrow(/depthEta: profile must be 'increasing' or 'decreasing', got "flat"/);
    expect(() => depthEta([['w', { numel: 0 }]], 'increasing')).toThrow(/depthEta: w has numel 0/);
  });

  it('in JSON, G is null (not measured) and eta a number', () => {
    const [first] = JSON.parse(JSON.stringify(depthEta(named, 'increasing'))) as { G: unknown; eta: unknown }[];
    expect(first.G).toBeNull();
    expect(typeof first.eta).toBe('number');
  });
});
