// Gradient accumulation: one optimizer step over batch 32 equals one step over 2 micro-batches
// of 16 (--accumulate 2) on the same samples (MLP without BatchNorm, so the two are the same
// function; atol 1e-6 for the float32 summation order).
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { readSafetensors, toFloat32Array } from '../../src/io/safetensors';
import { expectClose } from '../helpers/compare';
import { runCli } from '../helpers/cli';

test('--batch-size 32 vs --batch-size 16 --accumulate 2: the same weights after one step', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'lw-acc-'));
  const common = ['train', '--data', 'synthetic:64:1x4x4:3', '--model', 'mlp', '--hidden', '8', '--lr-mode', 'single', '--init', 'pytorch',
    '--max-steps', '1', '--lr', '0.5', '--momentum', '0.9', '--out-dir', out, '--json'];
  expect(runCli([...common, '--batch-size', '32', '--name', 'big']).status).toBe(0);
  const acc = runCli([...common, '--batch-size', '16', '--accumulate', '2', '--name', 'acc']);
  expect(acc.status, acc.stderr).toBe(0);
  const a = readSafetensors(path.join(out, 'big', 'checkpoint.safetensors')).tensors;
  const b = readSafetensors(path.join(out, 'acc', 'checkpoint.safetensors')).tensors;
  for (const [name, t] of a) expectClose(toFloat32Array(b.get(name)!), toFloat32Array(t), { atol: 1e-6, rtol: 1e-5 }, name);
  const initial = runCli([...common, '--batch-size', '16', '--accumulate', '2', '--name', 'acc2', '--lr', '1e-9']);
  expect(initial.status).toBe(0);
  const moved = toFloat32Array(a.get('fc1.weight')!).some((v, i) => Math.abs(v - toFloat32Array(readSafetensors(path.join(out, 'acc2', 'checkpoint.safetensors')).tensors.get('fc1.weight')!)[i]) > 1e-4);
  expect(moved).toBe(true);
});
