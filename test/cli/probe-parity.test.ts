// `layerwise probe` end to end against PyTorch's Algorithm 1: the fixture's MLP weights
// (--init-weights) and its T=3 batches (a tensors:FILE dataset read in order) give the fixture's
// G and eta (rel 1e-5) in the model's parameter order.
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { readSafetensors, writeSafetensors, toFloat32Array, toInt32Array } from '../../src/io/safetensors';
import { FIXTURES } from '../helpers/fixtures';
import { runCli } from '../helpers/cli';

test('probe --data tensors:FILE --init-weights W --steps 3 matches PyTorch Algorithm 1', () => {
  const fx = readSafetensors(path.join(FIXTURES, 'layerwise', 'probe_mlp.safetensors'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-probe-parity-'));
  const names: string[] = JSON.parse(fx.metadata.names);
  const weights = path.join(dir, 'w.safetensors');
  writeSafetensors(weights, names.map((n) => [n, fx.tensors.get(`param.${n}`)!] as const));
  const images = [0, 1, 2].map((t) => toFloat32Array(fx.tensors.get(`batch.${t}.images`)!));
  const labels = [0, 1, 2].map((t) => toInt32Array(fx.tensors.get(`batch.${t}.labels`)!));
  const all = new Float32Array(images.reduce((n, a) => n + a.length, 0));
  images.reduce((off, a) => (all.set(a, off), off + a.length), 0);
  const data = path.join(dir, 'batches.safetensors');
  writeSafetensors(data, [
    ['images', { dtype: 'F32', shape: [24, 1, 28, 28], data: all }],
    ['labels', { dtype: 'I32', shape: [24], data: Int32Array.from(labels.flatMap((l) => Array.from(l))) }],
  ], { num_classes: '10' });
  const out = path.join(dir, 'eta.json');
  const r = runCli(['probe', '--model', 'mlp', '--hidden', '32', '--data', `tensors:${data}`, '--batch-size', '8', '--steps', '3',
    '--init-weights', weights, '--out', out]);
  expect(r.status, r.stderr).toBe(0);
  const profile = JSON.parse(readFileSync(out, 'utf8'));
  expect(profile.params.map((p: { name: string }) => p.name)).toEqual(names);
  for (const p of profile.params) {
    const G = toFloat32Array(fx.tensors.get(`G.${p.name}`)!)[0];
    const eta = toFloat32Array(fx.tensors.get(`eta.${p.name}`)!)[0];
    expect(Math.abs(p.G - G) / G, p.name).toBeLessThan(1e-5);
    expect(Math.abs(p.eta - eta) / eta, p.name).toBeLessThan(1e-5);
  }
});
