// Where src/native/cuda-libraries.ts looks for cuBLASLt, cuBLAS and cuDNN, in which order, and
// what it says when something is missing; folders of empty files stand in for installations.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CUDNN_REQUIRED, findCudaLibraries, missingLibrariesMessage } from '../../src/native/cuda-libraries';

const root = mkdtempSync(path.join(tmpdir(), 'layerwise-cuda-libs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: string[]): string {
  const d = path.join(root, name);
  mkdirSync(d, { recursive: true });
  for (const f of files) writeFileSync(path.join(d, f), '');
  return d;
}

const CUBLAS = ['libcublasLt.so.13', 'libcublas.so.13'];
const CUDNN = ['libcudnn.so.9', ...CUDNN_REQUIRED, 'libcudnn_heuristic.so.9'];
const noSystem = { systemDirs: [], projectRoot: path.join(root, 'project'), pythonNvidiaDirs: () => [] };

describe('CUDA library discovery', () => {
  test('LAYERWISE_CUDA_LIBS wins over CUDA_HOME and LD_LIBRARY_PATH; the preload order puts dependencies first', () => {
    const mine = folder('mine', [...CUBLAS]);
    const home = folder('home/lib64', [...CUBLAS, ...CUDNN]);
    const ld = folder('ld', [...CUBLAS, ...CUDNN]);
    const s = findCudaLibraries({ ...noSystem, env: { LAYERWISE_CUDA_LIBS: mine, CUDA_HOME: path.join(root, 'home'), LD_LIBRARY_PATH: ld } });
    expect(s.missing).toEqual([]);
    expect(s.found['libcublas.so.13']).toBe(path.join(mine, 'libcublas.so.13'));
    expect(s.found['libcudnn.so.9']).toBe(path.join(home, 'libcudnn.so.9'));
    expect(s.searched.slice(0, 2)).toEqual([{ dir: mine, source: 'LAYERWISE_CUDA_LIBS' }, { dir: home, source: 'CUDA_HOME' }]);
    expect(s.searched.map((x) => x.source)).toContain('LD_LIBRARY_PATH');
    expect(s.preload.map((p) => path.basename(p))).toEqual([
      'libcublasLt.so.13', 'libcublas.so.13', 'libcudnn_graph.so.9', 'libcudnn_ops.so.9', 'libcudnn_cnn.so.9', 'libcudnn_heuristic.so.9', 'libcudnn.so.9']);
  });

  test("cuDNN's sub-libraries come from libcudnn.so.9's own folder, never from a later one", () => {
    const shim = folder('shim-only', [...CUBLAS, 'libcudnn.so.9', 'libcudnn_graph.so.9']);
    const full = folder('full', [...CUDNN]);
    const s = findCudaLibraries({ ...noSystem, env: { LAYERWISE_CUDA_LIBS: `${shim}:${full}` } });
    expect(s.missing).toEqual([`libcudnn_ops.so.9 (beside ${path.join(shim, 'libcudnn.so.9')})`, `libcudnn_cnn.so.9 (beside ${path.join(shim, 'libcudnn.so.9')})`]);
    expect(s.preload).toEqual([]);
  });

  test('the python3 wheels are searched (site-packages/nvidia/{cu13,cudnn}/lib) only when something is missing', () => {
    const site = path.join(root, 'site-packages', 'nvidia');
    folder('site-packages/nvidia/cu13/lib', [...CUBLAS]);
    folder('site-packages/nvidia/cudnn/lib', [...CUDNN]);
    let calls = 0;
    const s = findCudaLibraries({ ...noSystem, env: {}, pythonNvidiaDirs: () => (calls++, [site]) });
    expect(calls).toBe(1);
    expect(s.missing).toEqual([]);
    expect(s.found['libcudnn.so.9']).toBe(path.join(site, 'cudnn', 'lib', 'libcudnn.so.9'));
    expect(s.searched.filter((x) => x.source === 'python3 wheels').map((x) => path.basename(path.dirname(x.dir)))).toEqual(['cu13', 'cublas', 'cudnn', 'cuda_runtime', 'cuda_nvrtc']);
    const all = folder('all', [...CUBLAS, ...CUDNN]);
    findCudaLibraries({ ...noSystem, env: { LAYERWISE_CUDA_LIBS: all }, pythonNvidiaDirs: () => (calls++, [site]) });
    expect(calls).toBe(1);
  });

  test("the project's third_party/cuda/nvidia/*/lib folders are searched", () => {
    const project = path.join(root, 'proj');
    folder('proj/third_party/cuda/nvidia/cu13/lib', [...CUBLAS]);
    folder('proj/third_party/cuda/nvidia/cudnn/lib', [...CUDNN]);
    const s = findCudaLibraries({ ...noSystem, projectRoot: project, env: {} });
    expect(s.missing).toEqual([]);
    expect(s.found['libcublasLt.so.13']).toBe(path.join(project, 'third_party/cuda/nvidia/cu13/lib/libcublasLt.so.13'));
  });

  test('the message names what is missing, every folder looked in, and how to fix it', () => {
    const only = folder('only-cublas', [...CUBLAS]);
    const s = findCudaLibraries({ ...noSystem, env: { LAYERWISE_CUDA_LIBS: only, CUDA_PATH: '/opt/cuda-x' } });
    expect(s.missing).toEqual(['libcudnn.so.9']);
    const m = missingLibrariesMessage(s);
    expect(m).toMatch(/^libcudnn\.so\.9 not found \(looked in: /);
    expect(m).toContain(`${only} [LAYERWISE_CUDA_LIBS]`);
    expect(m).toContain('/opt/cuda-x/lib64 [CUDA_PATH]');
    expect(m).toContain('[third_party]');
    expect(m).toContain('install nvidia-cudnn-cu13 (pip) or set LAYERWISE_CUDA_LIBS');
  });
});
