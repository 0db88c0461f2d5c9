// `layerwise info [--json]` on this machine: versions, the loaded core addon, the CPU backend,
// and for CUDA whether it is available; where it is not (no GPU, no CUDA library), the reason and
// every folder looked in. Also --device's errors.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

describe('layerwise info', () => {
  test('--json: versions, addon, CPU backend, and CUDA availability with the reason and the places looked', () => {
    const r = runCli(['info', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.version).toBe(pkg.version);
    expect(info.node).toBe(process.version);
    expect(info.platform).toBe(`${process.platform}-${process.arch}`);
    expect(existsSync(info.addon)).toBe(true);
    expect(info.addon).toMatch(/\.node$/);
    expect(info.cpu.threads).toBeGreaterThanOrEqual(1);
    expect(info.cpu.blas).toMatch(/OpenBLAS/);
    expect(info.backends[0]).toBe('cpu');
    expect(info.cuda.library.path).toMatch(/layerwise_cuda\.so$/);
    const sources = info.cuda.libraries.searched.map((s: { source: string }) => s.source);
    expect(sources).toEqual(expect.arrayContaining(['system', 'third_party']));
    expect(info.cuda.libraries.searched.map((s: { dir: string }) => s.dir)).toContain('/usr/local/cuda/lib64');
    if (info.cuda.available) {
      expect(info.backends).toEqual(['cpu', 'cuda']);
      expect(info.cuda.devices.length).toBeGreaterThan(0);
      expect(info.cuda.devices[0].computeCapability).toMatch(/^\d+\.\d+$/);
    } else {
      expect(info.backends).toEqual(['cpu']);
      expect(info.cuda.reason).toMatch(/\S{10,}/);
      expect(info.cuda.devices).toEqual([]);
    }
  });

  test('the text form says the same in lines', () => {
    const r = runCli(['info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^layerwise ${pkg.version.replace(/\./g, '\\.')} \\(node ${process.version}`));
    expect(r.stdout).toMatch(/^cpu: +\d+ threads; OpenBLAS/m);
    expect(r.stdout).toMatch(/^cuda: +(available|unavailable)$/m);
    expect(r.stdout).toMatch(/^ {2}looked in: .*\/usr\/local\/cuda\/lib64 \[system\]/m);
  });

  test('--device takes cpu, cuda or auto; --device cuda without CUDA fails saying why', () => {
    const bad = runCli(['train', '--device', 'gpu']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--device.*gpu.*cpu, cuda, auto/s);
    const probe = runCli(['info', '--json']);
    if (JSON.parse(probe.stdout).cuda.available) return;
    const cuda = runCli(['probe', '--device', 'cuda', '--data', 'synthetic:64:1x4x4:3', '--model', 'mlp', '--steps', '1']);
    expect(cuda.status).toBe(1);
    expect(cuda.stderr).toMatch(/^layerwise: CUDA backend unavailable: \S/m);
  });
});
