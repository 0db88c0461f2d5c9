// --probe-steps auto from the command line: train records T and why the probe stopped in
// eta.json and metrics.jsonl, the probe command prints and writes them, the epoch caps the probe,
// an auto profile equals the fixed-T profile of its T, and bad values are errors naming the option.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli';

// synthetic:512 -> 512 training samples = 32 batches of 16 per epoch.
const DATA = ['--data', 'synthetic:512:1x4x4:3', '--model', 'mlp', '--hidden', '8', '--batch-size', '16'];
const EASY = ['--probe-tol', '0.2', '--probe-window', '2', '--probe-min-steps', '4'];

function probeRecord(dir: string): Record<string, unknown> {
  const lines = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return lines.find((l) => l.kind === 'probe');
}

describe('--probe-steps auto (CLI)', () => {
  test('train: eta.json and the metrics probe record give T and stopped: converged; equal to --probe-steps T', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-auto-'));
    const r = runCli(['train', ...DATA, '--max-steps', '1', '--probe-steps', 'auto', ...EASY, '--out-dir', out, '--name', 'auto', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const profile = JSON.parse(readFileSync(path.join(out, 'auto', 'eta.json'), 'utf8'));
    expect(profile.stopped).toBe('converged');
    expect(profile.steps).toBeGreaterThanOrEqual(4);
    expect(profile.steps).toBeLessThan(32);
    expect(profile.convergence).toMatchObject({ tol: 0.2, window: 2, minSteps: 4, epochSteps: 32 });
    expect(profile.convergence.change).toBeLessThan(0.2);
    const rec = probeRecord(path.join(out, 'auto'));
    expect(rec).toMatchObject({ steps: profile.steps, stopped: 'converged', tol: 0.2, window: 2, min_steps: 4 });
    const fixed = runCli(['train', ...DATA, '--max-steps', '1', '--probe-steps', String(profile.steps), '--out-dir', out, '--name', 'fixed', '--json']);
    expect(fixed.status, fixed.stderr).toBe(0);
    const fixedProfile = JSON.parse(readFileSync(path.join(out, 'fixed', 'eta.json'), 'utf8'));
    expect(fixedProfile.params).toEqual(profile.params);
    expect(fixedProfile.stopped).toBe('steps');
    expect(probeRecord(path.join(out, 'fixed'))).toMatchObject({ steps: profile.steps, stopped: 'steps' });
  });

  test('probe: capped at one epoch (stopped: epoch); the table names T and the reason; --probe-steps is an alias of --steps', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-auto-'));
    const file = path.join(out, 'eta.json');
    const r = runCli(['probe', ...DATA, '--steps', 'auto', '--probe-min-steps', '100', '--out', file]);
    expect(r.status, r.stderr).toBe(0);
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    expect(profile).toMatchObject({ steps: 32, stopped: 'epoch', convergence: { tol: 0.005, window: 20, minSteps: 100, epochSteps: 32, change: null } });
    expect(r.stdout).toContain('T=32 batches of 16 (auto: not converged within one epoch');
    expect(r.stdout).toContain('stopped: epoch');
    const alias = runCli(['probe', ...DATA, '--probe-steps', 'auto', ...EASY, '--out', file]);
    expect(alias.status, alias.stderr).toBe(0);
    expect(alias.stdout).toMatch(/T=\d+ batches of 16 \(auto: converged, change [\d.]+%; tol 20% over 2 batches, min 4; epoch 32\)/);
    expect(JSON.parse(readFileSync(file, 'utf8')).stopped).toBe('converged');
    const epoch = runCli(['probe', ...DATA, '--out', file]);
    expect(epoch.status, epoch.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ steps: 32, stopped: 'epoch' });
  });

  test('bad values are errors naming the option', () => {
    const cases: [string[], RegExp][] = [
      [['train', '--probe-steps', 'soon'], /--probe-steps.*soon.*positive integer, 'epoch' or 'auto'/s],
      [['probe', '--steps', '0'], /--steps.*'0'.*positive integer, 'epoch' or 'auto'/s],
      [['train', '--probe-tol', '1.5'], /--probe-tol.*1\.5.*\(0, 1\)/s],
      [['probe', '--probe-tol', '0'], /--probe-tol.*'0'.*\(0, 1\)/s],
      [['train', '--probe-window', '0'], /--probe-window.*positive integer/s],
      [['probe', '--probe-min-steps', 'x'], /--probe-min-steps.*positive integer/s],
      [['probe', '--steps', '5', '--probe-steps', 'auto'], /--steps 5 and --probe-steps auto disagree/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});

describe('scripts/probe-table3.mjs', () => {
  test('writes the table and JSON; the epoch row is the reference and its eta is that of `probe --steps epoch`', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-table3-'));
    const script = path.join(__dirname, '..', '..', 'scripts', 'probe-table3.mjs');
    const spec = 'synthetic:256:1x4x4:3';
    const r = spawnSync(process.execPath, [script, '--models', 'mlp', '--data', `mlp=${spec}`, '--batch-size', '16', '--steps', '1,10', '--out', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'probe-length.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toEqual(report);
    const m = report.models[0];
    expect(m).toMatchObject({ model: 'mlp', data: spec, epoch_steps: 16, reference_steps: 16, auto: { tol: 0.005, window: 20, minSteps: 50, converged: false } });
    expect(m.rows.map((row: { T: string; steps: number }) => [row.T, row.steps])).toEqual([['T=1', 1], ['T=10', 10], ['epoch', 16]]);
    expect(m.rows[2]).toMatchObject({ max_deviation_pct: 0, mean_deviation_pct: 0 });
    expect(m.rows[0].max_deviation_pct).toBeGreaterThan(0);
    const md = readFileSync(path.join(out, 'probe-length.md'), 'utf8');
    expect(md).toContain('| T=10 | 10 |');
    expect(md).toContain('node scripts/probe-table3.mjs --models resnet50_cifar --merge');
    const file = path.join(out, 'eta.json');
    const p = runCli(['probe', '--model', 'mlp', '--data', spec, '--batch-size', '16', '--out', file]);
    expect(p.status, p.stderr).toBe(0);
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    for (const e of profile.params) expect(m.eta_epoch[e.name]).toBe(Number(e.eta.toPrecision(5)));
  });
});
