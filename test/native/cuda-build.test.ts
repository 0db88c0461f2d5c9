// The CUDA backend library as built (no GPU needed): build/Release/layerwise_cuda.so, next to the
// core addon (or to LAYERWISE_ADDON), exports every function of native/cuda/api.h and nothing of
// the layerwise C++ namespace (-fvisibility=hidden), leaves no kernel undefined, links cudart
// statically, needs cuDNN 9 and cuBLASLt 13 by their versioned names, and carries only $ORIGIN as
// its search path (no absolute path of the build machine). Skipped when the library is not built
// (a machine without nvcc or without the CUDA libraries builds only the core addon).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const dir = process.env.LAYERWISE_ADDON ? path.dirname(path.resolve(process.env.LAYERWISE_ADDON)) : path.join(root, 'build', 'Release');
const library = path.join(dir, 'layerwise_cuda.so');
const built = existsSync(library);
const notBuilt = `${library} is not built (no nvcc or no cuDNN/cuBLASLt: see native/cuda/CMakeLists.txt)`;

function run(tool: string, args: string[]): string {
  return execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** Dynamic symbols of the library: defined (T, W, ...) or undefined (U). */
function dynamicSymbols(kind: 'defined' | 'undefined'): string[] {
  return run('nm', ['-D', `--${kind}-only`, library])
    .split('\n')
    .map((line) => line.trim().split(/\s+/).pop() ?? '')
    .filter((name) => name.length > 0);
}

/** The extern "C" functions api.h declares. */
function apiFunctions(): string[] {
  const header = readFileSync(path.join(root, 'native', 'cuda', 'api.h'), 'utf8');
  return [...header.matchAll(/^int (layerwise_cuda_\w+)\(/gm)].map((m) => m[1]);
}

describe('layerwise_cuda.so', () => {
  test('exports every function of api.h and no C++ symbol of layerwise', (ctx) => {
    if (!built) ctx.skip(notBuilt);
    const api = apiFunctions();
    expect(api).toContain('layerwise_cuda_backend');
    expect(api.length).toBeGreaterThanOrEqual(7);
    const defined = dynamicSymbols('defined');
    for (const name of api) expect(defined, name).toContain(name);
    expect(defined.filter((name) => name.startsWith('_ZN9layerwise'))).toEqual([]);
    expect(defined.filter((name) => name.startsWith('cuda') || name.startsWith('__cuda'))).toEqual([]);
  });

  test('leaves no layerwise symbol undefined and links cudart statically', (ctx) => {
    if (!built) ctx.skip(notBuilt);
    expect(dynamicSymbols('undefined').filter((name) => name.includes('9layerwise'))).toEqual([]);
    const needed = [...run('readelf', ['-d', library]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    expect(needed).toContain('libcudnn.so.9');
    expect(needed).toContain('libcublasLt.so.13');
    expect(needed.filter((name) => name.startsWith('libcudart'))).toEqual([]);
  });

  test('searches only $ORIGIN for its libraries', (ctx) => {
    if (!built) ctx.skip(notBuilt);
    const paths = [...run('readelf', ['-d', library]).matchAll(/\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/g)]
      .flatMap((m) => m[1].split(':'));
    expect(paths).toEqual(['$ORIGIN']);
  });
});
