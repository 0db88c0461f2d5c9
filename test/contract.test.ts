// The contract check: kernels.h, the generated glue and TypeScript mirror, the loaded addon and
// the backend files must agree. Every kernel is defined in its family's file of each backend.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { addon } from '../src/native/addon';
import { KERNEL_FAMILIES } from '../src/native/kernels.generated';

const root = path.join(__dirname, '..');

describe('native contract', () => {
  test('generated glue and TypeScript mirror are up to date with kernels.h', () => {
    expect(() => execFileSync('node', [path.join(root, 'scripts/gen-contract.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  test('the addon exports exactly the kernels of kernels.h', () => {
    const declared = Object.values(KERNEL_FAMILIES).flat().sort();
    expect(Object.keys(addon.kernels).sort()).toEqual(declared);
  });

  const backends = [
    { dir: 'native/cpu', ext: '.cc' },
    { dir: 'native/cuda', ext: '.cu' },
  ].filter((b) => existsSync(path.join(root, b.dir)) && readdirSync(path.join(root, b.dir)).some((f) => f.endsWith(b.ext)));

  for (const { dir, ext } of backends) {
    test(`${dir}: every kernel is defined in its family file`, () => {
      const problems: string[] = [];
      for (const [family, names] of Object.entries(KERNEL_FAMILIES)) {
        const familyFiles = readdirSync(path.join(root, dir)).filter((f) => f === `${family}${ext}` || f.startsWith(`${family}_`));
        if (familyFiles.length === 0) {
          problems.push(`${dir}/${family}${ext} is missing`);
          continue;
        }
        const text = familyFiles.map((f) => readFileSync(path.join(root, dir, f), 'utf8')).join('\n');
        for (const name of names) {
          if (!new RegExp(`^Status ${name}\\(`, 'm').test(text)) problems.push(`${name} is not defined in ${dir}/${family}${ext}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
