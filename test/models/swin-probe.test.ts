// The probe on the full-size Swin-T (swin_tiny_patch4_window7_224, paper init) at batch 2 for 2
// steps of random 224px data (the synthetic set), on CPU, as `layerwise probe` runs it:
// - the paper's qualitative pattern: the relative-position bias tables get the highest eta of
//   all tensors: every one of the 12 tables is above the 90th percentile of the regular tensors'
//   eta, and the 12 highest-eta tensors are exactly the 12 tables (the committed 4-step profile
//   docs/profiles/swin_tiny_patch4_window7_224.json shows the same: percentiles 94-99.5);
// - the degenerate rule (G < 1e-6 * median G) names exactly the 12 attention key biases (their
//   gradient is zero in exact arithmetic; G is rounding noise, ~1e-9 against a median ~1e-3),
//   4,416 parameters; the table's footer and the saved profile report that count.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { scope } from '../../src/index';
import { degenerateSummary, formatProfileTable, saveProfile } from '../../src/layerwise/profile';
import { resolveConfig } from '../../src/train/config';
import { buildData, buildModel, initializeModel, resolveEta } from '../../src/train/setup';

test('swin_tiny probe (batch 2, 2 steps): relative-position tables have the top eta; the key biases are degenerate', () =>
  scope(() => {
    const config = resolveConfig({}, {
      model: 'swin_tiny_patch4_window7_224', data: 'synthetic:4:3x224x224:1000', batchSize: 2, lrMode: 'layerwise', probeSteps: 2,
    });
    const data = buildData(config);
    const model = buildModel(config, data);
    initializeModel(model, config);
    const { profile } = resolveEta(config, model, data);
    model.dispose();
    const params = profile!.params;
    expect(params.length).toBe(221);

    const degenerate = params.filter((e) => e.degenerate !== undefined);
    const keyBiases = params.filter((e) => e.name.endsWith('.attn.k.bias'));
    expect(keyBiases.length).toBe(12);
    expect(degenerate.map((e) => e.name)).toEqual(keyBiases.map((e) => e.name));
    for (const e of degenerate) expect(e.eta).toBe(1);
    const summary = degenerateSummary(params);
    expect(summary).toMatchObject({ tensors: 12, params: 4416 });
    expect(formatProfileTable(profile!)).toMatch(/degenerate: 12 tensor\(s\), 4,416 parameters/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-swin-probe-'));
    try {
      saveProfile(path.join(dir, 'eta.json'), profile!);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'eta.json'), 'utf8')).degenerate).toMatchObject({ tensors: 12, params: 4416 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const regular = params.filter((e) => e.degenerate === undefined);
    const sorted = regular.map((e) => e.eta).sort((a, b) => a - b);
    const p90 = sorted[Math.floor(0.9 * (sorted.length - 1))];
    const tables = regular.filter((e) => e.name.endsWith('relative_position_bias_table'));
    expect(tables.length).toBe(12);
    for (const t of tables) expect(t.eta, `${t.name} above the 90th percentile ${p90}`).toBeGreaterThan(p90);
    const top = [...regular].sort((a, b) => b.eta - a.eta).slice(0, 12).map((e) => e.name);
    expect(top.sort()).toEqual(tables.map((e) => e.name).sort());
  }), 180_000);
