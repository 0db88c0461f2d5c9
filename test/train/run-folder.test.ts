// The life of a run folder around its edges: a warmup longer than the run warns (stderr and a
// metrics.jsonl 'warning' record); the ETA counts training steps only, not the probe; stale
// temporary files of a killed writer are removed by a resume and by the next checkpoint write;
// resuming a finished run says so and changes nothing; state-dict loading errors name the file.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { resolveConfig } from '../../src/train/config';
import type { ProgressState } from '../../src/train/progress';
import { runTraining } from '../../src/train/run';
import { runCli, spawnCli } from '../helpers/cli';

const tiny = (out: string, name: string, extra: string[] = []) => [
  'train', '--data', 'synthetic:64:1x4x4:3', '--model', 'mlp', '--hidden', '4', '--batch-size', '16', '--probe-steps', '1',
  '--out-dir', out, '--name', name, '--json', ...extra,
];

function records(dir: string): { kind: string; [k: string]: unknown }[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

/** Starts `args`, SIGKILLs it right after its checkpoint at `step`. */
async function killAfterCheckpoint(args: string[], step: number): Promise<void> {
  const child = spawnCli(args, { LAYERWISE_HOLD_AFTER_CHECKPOINT: String(step) });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`checkpoint ${step} written`)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before its checkpoint: ${err}`)));
  });
  await new Promise((r) => child.on('close', r));
}

const STALE = ['checkpoint.safetensors.tmp-999999-0123456789ab', 'optimizer-00000004.safetensors.tmp-999999-ab', 'state.json.tmp-999999'];

describe('run folder', () => {
  test('--max-steps 2 with --warmup-steps 5: a warning on stderr and a warning record in metrics.jsonl; --warmup-steps 1: none', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-warm-'));
    const r = runCli(tiny(out, 'w', ['--max-steps', '2', '--warmup-steps', '5']));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the warmup \(5 steps, from --warmup-steps 5\).*--max-steps 2.*never leaves warmup/);
    const warnings = records(path.join(out, 'w')).filter((x) => x.kind === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('never leaves warmup');
    const ok = runCli(tiny(out, 'ok', ['--max-steps', '2', '--warmup-steps', '1']));
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('warning');
    expect(records(path.join(out, 'ok')).some((x) => x.kind === 'warning')).toBe(false);
  });

  test('ETA after step 1 of 3 counts training steps only: well below the probe time of 60 batches (probe-steps 60)', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-eta-'));
    const config = resolveConfig({}, {
      data: 'synthetic:256:1x8x8:3', model: 'mlp', hidden: 64, batchSize: 4, probeSteps: 60, maxSteps: 3, outDir: out, name: 'e',
    });
    const updates: ProgressState[] = [];
    runTraining(config, path.join(out, 'e'), null, { quiet: true, onProgress: (p) => updates.push({ ...p }) });
    const probe = records(path.join(out, 'e')).find((x) => x.kind === 'probe')!;
    expect(updates.map((u) => u.done)).toEqual([1, 2, 3]);
    // Before the fix the ETA was (probe + step) / 1 * 2 > 2 x the probe time.
    expect(updates[0].etaSeconds).toBeLessThan(0.5 * (probe.seconds as number));
    expect(updates[2].etaSeconds).toBe(0);
  });

  test('SIGKILL after checkpoint 2 of 4 (--checkpoint-every 2), stale *.tmp-* files: --resume removes them, keeps other files', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-stale-'));
    await killAfterCheckpoint(tiny(out, 'k', ['--max-steps', '4', '--checkpoint-every', '2']), 2);
    const dir = path.join(out, 'k');
    for (const f of [...STALE, 'notes.txt']) writeFileSync(path.join(dir, f), 'x');
    const r = runCli(['train', '--resume', dir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    for (const f of STALE) expect(existsSync(path.join(dir, f)), f).toBe(false);
    expect(existsSync(path.join(dir, 'notes.txt'))).toBe(true);
  });

  test('a new run into a folder holding only stale *.tmp-* files: its first checkpoint write removes them', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-stale2-'));
    const dir = path.join(out, 'n');
    mkdirSync(dir, { recursive: true });
    for (const f of STALE) writeFileSync(path.join(dir, f), 'x');
    const r = runCli(tiny(out, 'n', ['--max-steps', '2']));
    expect(r.status, r.stderr).toBe(0);
    for (const f of STALE) expect(existsSync(path.join(dir, f)), f).toBe(false);
  });

  test('--resume of a finished run (--max-steps 2): exit 0, says finished, metrics.jsonl and checkpoint unchanged (one summary)', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-done-'));
    expect(runCli(tiny(out, 'd', ['--max-steps', '2'])).status).toBe(0);
    const dir = path.join(out, 'd');
    const metrics = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8');
    const ckpt = readFileSync(path.join(dir, 'checkpoint.safetensors'));
    const r = runCli(['train', '--resume', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/finished run .*nothing to resume/);
    expect(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')).toBe(metrics);
    expect(records(dir).filter((x) => x.kind === 'summary')).toHaveLength(1);
    expect(readFileSync(path.join(dir, 'checkpoint.safetensors')).equals(ckpt)).toBe(true);
    const j = runCli(['train', '--resume', dir, '--json']);
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ kind: 'finished', steps: 2 });
  });

  test('state-dict errors name the file: --init-weights and eval --weights of hidden 4 into hidden 8, a checkpoint with wrong tensors', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-sd-'));
    expect(runCli(tiny(out, 'h4', ['--max-steps', '2'])).status).toBe(0);
    const weights = path.join(out, 'h4', 'checkpoint.safetensors');
    const init = runCli([...tiny(out, 'h8', ['--max-steps', '2']), '--hidden', '8', '--init-weights', weights]);
    expect(init.status).not.toBe(0);
    expect(init.stderr).toContain(`${weights}: `);
    expect(init.stderr).toMatch(/fc1\.weight/);
    const ev = runCli(['eval', '--weights', weights, '--model', 'mlp', '--hidden', '8', '--data', 'synthetic:64:1x4x4:3']);
    expect(ev.status).not.toBe(0);
    expect(ev.stderr).toContain(`${weights}: `);
    // A killed run whose checkpoint.safetensors holds hidden-4 tensors under a hidden-8 run's state.
    await killAfterCheckpoint(tiny(out, 'k8', ['--hidden', '8', '--max-steps', '4', '--checkpoint-every', '2']), 2);
    const ckpt = path.join(out, 'k8', 'checkpoint.safetensors');
    writeSafetensors(ckpt, readSafetensors(weights).tensors, readSafetensors(ckpt).metadata);
    const resumed = runCli(['train', '--resume', path.join(out, 'k8')]);
    expect(resumed.status).not.toBe(0);
    expect(resumed.stderr).toContain(`${ckpt}: `);
  });
});
