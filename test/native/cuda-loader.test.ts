// Loading the CUDA backend on a machine without CUDA, through stand-in libraries compiled here
// (test/fixtures/fake-cuda/): fake cuBLASLt / cuBLAS / cuDNN under their sonames, and a fake
// layerwise_cuda.so that links them by soname without an RPATH and exports native/cuda/api.h. It
// loads only because the binding preloads what src/native/cuda-libraries.ts found (there is no
// LD_LIBRARY_PATH), and the fake cuDNN dlopens a sub-library by bare soname as cuDNN 9 does, which
// works only because the sub-libraries are preloaded too. Checked through the CLI: `info --json`
// lists the device, a driver failure becomes the reason, `--device auto` falls back to cpu saying
// why, `--device cuda` fails saying why, and a missing cuDNN sub-library is named.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli';

const fixtures = path.join(__dirname, '..', 'fixtures', 'fake-cuda');
const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-fake-cuda-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cc(args: string[]): void {
  execFileSync('cc', ['-shared', '-fPIC', '-O0', ...args], { stdio: 'pipe' });
}

function libDir(name: string): string {
  const d = path.join(dir, name);
  execFileSync('mkdir', ['-p', d]);
  return d;
}

/** Builds the stand-ins into `d` (a cuDNN without sub-library `omit`, if given). */
function buildFakes(d: string, omit: string | null = null): void {
  for (const so of ['libcublasLt.so.13', 'libcublas.so.13', 'libcudnn_graph.so.9', 'libcudnn_ops.so.9', 'libcudnn_cnn.so.9']) {
    if (so !== omit) cc([`-Wl,-soname,${so}`, path.join(fixtures, 'fake_lib.c'), '-o', path.join(d, so)]);
  }
  cc(['-Wl,-soname,libcudnn.so.9', path.join(fixtures, 'fake_cudnn.c'), '-ldl', '-o', path.join(d, 'libcudnn.so.9')]);
  cc(['-Wl,--no-as-needed', path.join(fixtures, 'fake_layerwise_cuda.c'), `-L${d}`,
    '-l:libcublasLt.so.13', '-l:libcublas.so.13', '-l:libcudnn.so.9', '-o', path.join(d, 'layerwise_cuda.so')]);
}

let good: string;
beforeAll(() => {
  good = libDir('good');
  buildFakes(good);
});

function env(d: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { LAYERWISE_CUDA_LIBS: d, LAYERWISE_CUDA_LIBRARY: path.join(d, 'layerwise_cuda.so'), LD_LIBRARY_PATH: '', ...extra };
}

function info(e: NodeJS.ProcessEnv) {
  const r = runCli(['info', '--json'], e);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('CUDA backend loading (stand-in libraries)', () => {
  test('the preloaded libraries let layerwise_cuda.so and cuDNN\'s sub-library load: info lists the device', () => {
    const r = info(env(good));
    expect(r.cuda.reason).toBeNull();
    expect(r.cuda.available).toBe(true);
    expect(r.backends).toEqual(['cpu', 'cuda']);
    expect(r.cuda.library).toEqual({ path: path.join(good, 'layerwise_cuda.so'), source: 'LAYERWISE_CUDA_LIBRARY', exists: true });
    for (const so of ['libcublasLt.so.13', 'libcublas.so.13', 'libcudnn.so.9', 'libcudnn_graph.so.9', 'libcudnn_cnn.so.9']) {
      expect(r.cuda.libraries.found[so]).toBe(path.join(good, so));
    }
    expect(r.cuda.libraries.searched[0]).toEqual({ dir: good, source: 'LAYERWISE_CUDA_LIBS' });
    expect(r.cuda.devices).toHaveLength(1);
    // cudnnVersion came through the fake cuDNN's dlopen("libcudnn_graph.so.9") by bare soname.
    expect(r.cuda.devices[0]).toMatchObject({ index: 0, name: 'Fake GPU', computeCapability: '9.0', multiprocessors: 132,
      totalMemory: 80 * 2 ** 30, freeMemory: 79 * 2 ** 30, driverVersion: 13000, cudnnVersion: 91000 });
    const text = runCli(['info'], env(good));
    expect(text.stdout).toMatch(/device 0: Fake GPU, compute 9\.0, 132 SMs, 79\.0 GiB free of 80\.0 GiB; driver 13\.0/);
  });

  test('without the driver, info says why CUDA is unavailable', () => {
    const r = info(env(good, { FAKE_CUDA_MODE: 'nodriver' }));
    expect(r.cuda.available).toBe(false);
    expect(r.cuda.reason).toContain('fake: CUDA driver not found');
    expect(r.backends).toEqual(['cpu']);
  });

  test('--device auto falls back to cpu and says why; --device cuda fails saying why', () => {
    const args = ['train', '--data', 'synthetic:64:1x4x4:3', '--model', 'mlp', '--hidden', '4', '--batch-size', '16',
      '--epochs', '1', '--max-steps', '1', '--lr-mode', 'single', '--json', '--out-dir'];
    const auto = runCli([...args, path.join(dir, 'runs-auto'), '--device', 'auto'], env(good));
    expect(auto.status, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/device cpu \(auto: CUDA backend unavailable: the CUDA backend failed to start: fake backend: no kernel table/);
    const cuda = runCli([...args, path.join(dir, 'runs-cuda'), '--device', 'cuda'], env(good));
    expect(cuda.status).toBe(1);
    expect(cuda.stderr).toContain('CUDA backend unavailable: the CUDA backend failed to start: fake backend: no kernel table');
  });

  test('a cuDNN without its _cnn sub-library is named as missing, beside libcudnn.so.9', () => {
    const d = libDir('no-cnn');
    buildFakes(d, 'libcudnn_cnn.so.9');
    const r = info(env(d));
    expect(r.cuda.available).toBe(false);
    expect(r.cuda.libraries.missing).toEqual([`libcudnn_cnn.so.9 (beside ${path.join(d, 'libcudnn.so.9')})`]);
    expect(r.cuda.reason).toContain('libcudnn_cnn.so.9');
    expect(r.cuda.reason).toContain('install nvidia-cudnn-cu13');
  });

  test('the library beside layerwise.node is the default; a missing one is the reason, with the places looked', () => {
    const d = libDir('empty');
    copyFileSync(path.join(good, 'libcublasLt.so.13'), path.join(d, 'libcublasLt.so.13'));
    const r = info({ LAYERWISE_CUDA_LIBS: d, LAYERWISE_CUDA_LIBRARY: '', LD_LIBRARY_PATH: '' });
    expect(r.cuda.library.source).toBe('beside layerwise.node');
    expect(r.cuda.library.path).toBe(path.join(path.dirname(r.addon), 'layerwise_cuda.so'));
    expect(r.cuda.available).toBe(false);
    if (!r.cuda.library.exists) expect(r.cuda.reason).toContain(`${r.cuda.library.path} (beside layerwise.node) does not exist`);
    // Machines with CUDA libraries in the system paths or third_party/ find the rest there.
    const missing: string[] = r.cuda.libraries.missing;
    if (missing.length > 0) expect(r.cuda.reason).toContain(`${missing.join(', ')} not found (looked in: ${d} [LAYERWISE_CUDA_LIBS], `);
    expect(r.cuda.libraries.found['libcublasLt.so.13']).toBe(path.join(d, 'libcublasLt.so.13'));
    expect(r.cuda.libraries.searched.map((s: { source: string }) => s.source)).toEqual(expect.arrayContaining(['LAYERWISE_CUDA_LIBS', 'system', 'third_party']));
  });
});
