// --precision and --channels-last through the whole training run (small synthetic data):
// fp16 trains with GradScaler loss scaling, its skipped steps are logged and match the scale's
// halvings (no growth inside 2000 clean steps), and the scaler's state is checkpointed and
// restored on resume; bf16 together with channels-last trains and evaluates to finite numbers.
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveConfig } from '../../src/train/config';
import { runTraining } from '../../src/train/run';
import { loadCheckpoint } from '../../src/train/checkpoint';

function records(dir: string): { kind: string; [k: string]: unknown }[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

const base = { data: 'synthetic:256:1x12x12:4', model: 'cnn', hidden: 8, batchSize: 32, probeSteps: 2, logInterval: 4 };

describe('mixed precision runs', () => {
  test('fp16: loss scaling with skipped steps logged, scale halved once per skipped step, state checkpointed and resumed', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-fp16-'));
    const dir = path.join(out, 'a');
    const config = resolveConfig({}, { ...base, precision: 'fp16', maxSteps: 12, checkpointEvery: 6, outDir: out, name: 'a' });
    const summary = runTraining(config, dir, null, { quiet: true });
    expect(Number.isFinite(summary.final.loss)).toBe(true);
    const recs = records(dir);
    const skipped = recs.filter((r) => r.kind === 'skipped_step');
    const state = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8'));
    expect(state.scaler.growth_interval).toBe(2000);
    expect(state.scaler.scale).toBe(2 ** (16 - skipped.length));
    // Clean steps since the last skipped one (all 12 when none was skipped).
    const lastSkipped = skipped.length > 0 ? (skipped[skipped.length - 1].step as number) : 0;
    expect(state.scaler._growth_tracker).toBe(12 - lastSkipped);
    for (const r of recs.filter((x) => x.kind === 'step')) expect(Number.isFinite(r.loss as number)).toBe(true);
    // Resume from the step-6 checkpoint of a twin run and finish: the scaler state continues.
    const twin = path.join(out, 'b');
    runTraining({ ...config, name: 'b', maxSteps: 6 }, twin, null, { quiet: true });
    const ck = loadCheckpoint(twin);
    expect(ck.state.scaler).toBeDefined();
    const resumed = runTraining({ ...config, name: 'b' }, twin, ck, { quiet: true });
    expect(Number.isFinite(resumed.final.loss)).toBe(true);
  });

  test('bf16 with channels-last trains and evaluates to finite numbers', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-bf16cl-'));
    const config = resolveConfig({}, { ...base, precision: 'bf16', channelsLast: true, maxSteps: 8, outDir: out, name: 'c' });
    const summary = runTraining(config, path.join(out, 'c'), null, { quiet: true });
    expect(Number.isFinite(summary.final.loss)).toBe(true);
    expect(summary.final.samples).toBeGreaterThan(0);
    expect(summary.final.nonFinite).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'c', 'config.json'), 'utf8'))).toMatchObject({ precision: 'bf16', channelsLast: true });
  });
});
