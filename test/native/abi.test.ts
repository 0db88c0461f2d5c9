// The backend ABI check: a backend library built from another kernels.h (another ABI version or
// contract hash) is refused when loaded, with a message naming both versions, and the process
// goes on. The stand-in library (fake_backend.cc) is compiled here with the system C++ compiler.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { addon } from '../../src/native/addon';

const root = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-abi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(name: string, defines: string[]): string {
  const out = path.join(dir, `${name}.so`);
  execFileSync('g++', ['-std=c++17', '-shared', '-fPIC', '-O0', ...defines,
    `-I${path.join(root, 'native/include')}`, `-I${path.join(root, 'native/binding')}`,
    path.join(__dirname, 'fake_backend.cc'), '-o', out], { stdio: 'pipe' });
  return out;
}

function loadError(file: string): Error & { code?: string } {
  try {
    addon.loadCuda(file);
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error(`${file} was accepted`);
}

describe('backend ABI version check', () => {
  test('a library with another ABI version is refused, naming both versions', () => {
    const e = loadError(build('abi_plus1', ['-DFAKE_ABI_SHIFT=1']));
    expect(e.code).toBe('ERR_DEVICE_UNAVAILABLE');
    expect(e.message).toMatch(/built for ABI (\d+) \(contract [0-9a-f]+\) but this addon has ABI (\d+) \(contract [0-9a-f]{16}\)/);
    const [, theirs, ours] = e.message.match(/ABI (\d+).*ABI (\d+)/)!;
    expect(Number(theirs)).toBe(Number(ours) + 1);
  });

  test('a library with the same ABI version but another contract hash is refused', () => {
    const e = loadError(build('hash', ['-DFAKE_ABI_SHIFT=0', '-DFAKE_HASH="ffffffffffffffff"']));
    expect(e.message).toContain('contract ffffffffffffffff');
    expect(e.message).toContain('rebuild both from the same kernels.h');
  });

  test('a missing library is refused with the path in the message', () => {
    const e = loadError(path.join(dir, 'missing.so'));
    expect(e.code).toBe('ERR_DEVICE_UNAVAILABLE');
    expect(e.message).toContain('missing.so');
  });
});
