// Training on an image folder through the command line (lib/cli/main.js): a 2-step run with
// --aug strong (RandAugment + Mixup) writes the classes into config.json and the pipeline's
// statistics into the epoch line; ReaL and an ImageNet-V2-layout folder are scored in the epoch
// line and by `layerwise eval`; a run SIGKILLed after its checkpoint at step 3 and resumed to step 6
// has bit-identical weights and losses to a straight 6-step run (mid-epoch: 60 images, batch 8).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors';
import { runCli, spawnCli } from '../helpers/cli';
import { tempDir, writeClassTree } from '../helpers/image-tree';

let dir: string;
let out: string;
beforeAll(async () => {
  dir = tempDir();
  out = tempDir('lw-img-runs-');
  await writeClassTree(path.join(dir, 'in', 'train'), ['cat', 'dog', 'eel'], 20);
  const val = await writeClassTree(path.join(dir, 'in', 'val'), ['cat', 'dog', 'eel'], 2);
  // ILSVRC-style names, so real.json's order (sorted names) differs from the split's order.
  val.forEach((f, i) => writeFileSync(path.join(path.dirname(f), `ILSVRC2012_val_0000000${6 - i}.JPEG`), readFileSync(f)));
  for (const f of val) rmSync(f);
  writeFileSync(path.join(dir, 'real.json'), JSON.stringify([[0], [1, 2], [], [2], [0, 1, 2], [1]]));
  await writeClassTree(path.join(dir, 'v2'), ['0', '2'], 2);
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

const common = (data: string) => [
  'train', '--data', `folder:${data}`, '--model', 'cnn', '--hidden', '8', '--batch-size', '8', '--eval-batch-size', '4', '--image-size', '32',
  '--probe-steps', '2', '--log-interval', '1', '--seed', '2', '--workers', '2', '--json',
];

function records(run: string): Record<string, unknown>[] {
  return readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('training on an image folder', () => {
  test('--aug strong, 2 steps: classes in config.json, stall and decode rate, ReaL and V2 in the metrics; eval agrees', () => {
    const r = runCli([...common(path.join(dir, 'in')), '--aug', 'strong', '--max-steps', '2', '--out-dir', out, '--name', 'strong',
      '--real-labels', path.join(dir, 'real.json'), '--eval-data', path.join(dir, 'v2')]);
    expect(r.status, r.stderr).toBe(0);
    const run = path.join(out, 'strong');
    const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8'));
    expect(config.classes).toEqual(['cat', 'dog', 'eel']);
    expect(config.aug).toBe('strong');
    const epoch = records(run).find((x) => x.kind === 'epoch')!;
    expect(Number.isFinite(epoch.train_loss)).toBe(true);
    expect(epoch.data_stall_s as number).toBeGreaterThanOrEqual(0);
    expect(epoch.data_stall_ms_per_step as number).toBeGreaterThanOrEqual(0);
    expect(epoch.decode_images_per_s as number).toBeGreaterThan(0);
    expect(epoch.bad_images).toBe(0);
    expect(epoch.real_images).toBe(5);
    expect([0, 20, 40, 60, 80, 100]).toContain(epoch.real_top1);
    expect([0, 25, 50, 75, 100]).toContain(epoch.v2_top1);
    const e = runCli(['eval', run, '--json', '--workers', '1', '--real-labels', path.join(dir, 'real.json'), '--eval-data', path.join(dir, 'v2')]);
    expect(e.status, e.stderr).toBe(0);
    const result = JSON.parse(e.stdout.trim().split('\n').pop()!);
    const summary = records(run).find((x) => x.kind === 'summary')!;
    expect(result.top1).toBe(summary.test_top1);
    expect(result.real_top1).toBe(summary.real_top1);
    expect(result.v2_top1).toBe(summary.v2_top1);
  });

  test('resume mid-epoch: 6 steps straight vs SIGKILL after checkpoint 3 and --resume: bit-identical', async () => {
    const args = [...common(path.join(dir, 'in')), '--aug', 'strong', '--max-steps', '6', '--checkpoint-every', '3', '--out-dir', out];
    const straight = runCli([...args, '--name', 'straight']);
    expect(straight.status, straight.stderr).toBe(0);
    const child = spawnCli([...args, '--name', 'killed', '--workers', '3'], { LAYERWISE_HOLD_AFTER_CHECKPOINT: '3' });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('checkpoint 3 written')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before its checkpoint: ${err}`)));
    });
    await new Promise((r) => child.on('close', r));
    const killed = path.join(out, 'killed');
    const resumed = runCli(['train', '--resume', killed, '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const a = readSafetensors(path.join(out, 'straight', 'checkpoint.safetensors')).tensors;
    const b = readSafetensors(path.join(killed, 'checkpoint.safetensors')).tensors;
    for (const [name, t] of a) expect(Buffer.from(b.get(name)!.data).equals(Buffer.from(t.data)), name).toBe(true);
    const losses = (run: string) => records(run).filter((x) => x.kind === 'step' || x.kind === 'epoch').map((x) => [x.kind, x.step, x.loss, x.train_loss, x.test_loss, x.lr]);
    expect(losses(killed)).toEqual(losses(path.join(out, 'straight')));
  });

  test('a bad file stops the run naming it; --skip-bad-images trains on and lists it', async () => {
    const bad = path.join(dir, 'bad');
    await writeClassTree(path.join(bad, 'train'), ['a', 'b'], 8);
    await writeClassTree(path.join(bad, 'val'), ['a', 'b'], 1);
    const broken = path.join(bad, 'train', 'b', 'img0003.JPEG');
    writeFileSync(broken, readFileSync(broken).subarray(0, 200));
    const args = [...common(bad), '--max-steps', '2', '--out-dir', out];
    const stop = runCli([...args, '--name', 'stop']);
    expect(stop.status).not.toBe(0);
    expect(stop.stderr).toContain(broken);
    const skip = runCli([...args, '--name', 'skip', '--skip-bad-images']);
    expect(skip.status, skip.stderr).toBe(0);
    const listed = readFileSync(path.join(out, 'skip', 'bad-images.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(listed.map((x) => x.file)).toEqual([broken]);
  });
});
