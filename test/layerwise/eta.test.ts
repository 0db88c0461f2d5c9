// Eta computation and profiles: normalization, degenerate tensors (far below the median G), the
// freeze option, JSON round trip, the Table 3 comparison and the printed table.
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  compareProfiles, computeEta, formatProfileTable, loadProfile, saveProfile, weightedMeanEta, type EtaProfile,
} from '../../src/layerwise';

const inputs = [
  { name: 'a.weight', numel: 100, G: 4e-3 },
  { name: 'a.bias', numel: 10, G: 1e-2 },
  { name: 'attn.k.bias', numel: 10, G: 2e-10 },
  { name: 'b.weight', numel: 50, G: 1e-3 },
];

describe('computeEta', () => {
  test('eta = 1/sqrt(G) normalized to a parameter-weighted mean of 1; a tensor below 1e-6 x median is degenerate', () => {
    const e = computeEta(inputs);
    expect(e[2]).toMatchObject({ eta: 1, degenerate: 'below-threshold' });
    expect(weightedMeanEta(e)).toBeCloseTo(1, 12);
    expect(e[0].eta / e[3].eta).toBeCloseTo(Math.sqrt(1e-3 / 4e-3), 12);
  });
  test('freeze gives degenerate tensors eta 0 and marks them', () => {
    const e = computeEta(inputs, { degenerate: 'freeze' });
    expect(e[2]).toMatchObject({ eta: 0, frozen: true });
  });
  test('threshold option', () => {
    expect(computeEta(inputs, { degenerateThreshold: 1e-12 })[2].degenerate).toBeUndefined();
  });
});

describe('profiles', () => {
  const profile = (etaScale: number): EtaProfile => ({
    format: 'layerwise-eta/1', model: 'mlp', steps: 3, batchSize: 8, seed: 1, data: 'synthetic', reduce: 'mean',
    params: computeEta(inputs).map((e, i) => ({ ...e, eta: i === 0 ? e.eta * etaScale : e.eta })),
  });
  test('save and load round trip; a malformed file is an error naming it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eta-'));
    const file = path.join(dir, 'eta.json');
    saveProfile(file, profile(1));
    // the degenerate tensors' summary is written beside the params
    expect(loadProfile(file)).toEqual({ ...profile(1), degenerate: { tensors: 1, params: 10, names: ['attn.k.bias'] } });
    const bad = path.join(dir, 'bad.json');
    require('node:fs').writeFileSync(bad, '{"params": [{"name": 3}]}');
    expect(() => loadProfile(bad)).toThrow(new RegExp(`${bad}: not an eta profile: params\\[0\\]\\.name`));
  });
  test('comparison gives max and mean deviation in %', () => {
    const c = compareProfiles(profile(1.02), profile(1));
    expect(c.maxDeviationPct).toBeCloseTo(2, 9);
    expect(c.meanDeviationPct).toBeCloseTo(0.5, 9);
    expect(c.worst).toBe('a.weight');
  });
  test('the table lists every tensor with its G and eta', () => {
    const t = formatProfileTable(profile(1));
    expect(t).toContain('attn.k.bias');
    expect(t).toContain('below-threshold, eta=1');
    const lines = t.split('\n');
    expect(lines).toHaveLength(4 + inputs.length);
    // the footer counts the degenerate tensors and the parameters they hold
    const d = profile(1).params.filter((e) => e.degenerate !== undefined);
    expect(lines.at(-1)).toMatch(new RegExp(`^degenerate: ${d.length} tensor\\(s\\), ${d.reduce((s, e) => s + e.numel, 0).toLocaleString('en-US')} parameters`));
  });
});
