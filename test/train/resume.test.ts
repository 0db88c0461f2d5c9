// Exact resume on CPU: a run of 2N steps against a run SIGKILLed (in a child process) right after
// its checkpoint at step N and resumed to 2N: the final weights and every logged loss are
// bit-identical. Synthetic set, cosine; three setups: the small CNN (BatchNorm) with SGD
// momentum, the same with AdamW (step counts and both moments restored), and an MLP with dropout
// 0.3 (the dropout stream restored) with SGD.
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors';
import { runCli, spawnCli } from '../helpers/cli';

const N = 6;
const base = [
  'train', '--data', 'synthetic:256:1x8x8:4', '--batch-size', '32', '--max-steps', String(2 * N),
  '--probe-steps', '3', '--log-interval', '1', '--checkpoint-every', String(N), '--seed', '3', '--json',
];
const CASES: [string, string[]][] = [
  ['cnn hidden 16, SGD momentum 0.9', ['--model', 'cnn', '--hidden', '16']],
  ['cnn hidden 16, AdamW lr 1e-3', ['--model', 'cnn', '--hidden', '16', '--optimizer', 'adamw', '--lr', '1e-3']],
  ['mlp hidden 32 with dropout 0.3, SGD momentum 0.9', ['--model', 'mlp', '--hidden', '32', '--drop', '0.3']],
];

function losses(dir: string): unknown[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'step' || r.kind === 'epoch')
    .map((r) => [r.kind, r.step, r.loss, r.train_loss, r.test_loss, r.test_top1, r.lr]);
}

describe.each(CASES)('resume: %s', (setup, extra) => {
  const common = [...base, ...extra];
  test(`${setup}: 2N=${2 * N} steps straight vs SIGKILL after checkpoint N=${N} and --resume: bit-identical weights and losses`, async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-resume-'));
    const straight = runCli([...common, '--out-dir', out, '--name', 'straight']);
    expect(straight.status, straight.stderr).toBe(0);

    const child = spawnCli([...common, '--out-dir', out, '--name', 'killed'], { LAYERWISE_HOLD_AFTER_CHECKPOINT: String(N) });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes(`checkpoint ${N} written`)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before its checkpoint: ${err}`)));
    });
    await new Promise((r) => child.on('close', r));
    expect(child.signalCode).toBe('SIGKILL');
    const killedDir = path.join(out, 'killed');
    const resumed = runCli(['train', '--resume', killedDir, '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);

    const a = readSafetensors(path.join(out, 'straight', 'checkpoint.safetensors')).tensors;
    const b = readSafetensors(path.join(killedDir, 'checkpoint.safetensors')).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, t] of a) expect(Buffer.from(b.get(name)!.data).equals(Buffer.from(t.data)), name).toBe(true);
    expect(losses(killedDir)).toEqual(losses(path.join(out, 'straight')));
  });
});
