// native/cpu must compile on aarch64 (scripts/check-aarch64.sh runs the cross compiler in CI):
// every x86 intrinsic, intrinsics header, inline asm and cpuid use sits inside a preprocessor
// block whose condition names __x86_64__ (the #else / #elif branches are the portable fallback);
// inline asm may also sit in a branch for __aarch64__ (with that architecture's constraints).
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = path.join(__dirname, '../../native/cpu');
const X86 = /immintrin|x86intrin|__m128|__m256|__m512|\b_mm\d*_|__builtin_ia32|cpuid/;
const ASM = /\basm\b|__asm__/;
type Arch = 'x86' | 'arm' | null;

function archOf(cond: string): Arch {
  if (/!\s*defined\s*\(/.test(cond)) return null;
  if (/__x86_64__/.test(cond)) return 'x86';
  if (/__aarch64__/.test(cond)) return 'arm';
  return null;
}

/** Lines using x86-only features outside an `#if` branch whose condition names __x86_64__. */
function unguarded(source: string): string[] {
  const stack: Arch[] = []; // per open #if: the architecture its current branch is only for
  const out: string[] = [];
  source.split('\n').forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    const d = /^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)$/.exec(code);
    if (d) {
      const [, kind, cond] = d;
      if (kind === 'if' || kind === 'ifdef') stack.push(archOf(cond));
      else if (kind === 'ifndef') stack.push(null);
      else if (kind === 'elif') stack[stack.length - 1] = archOf(cond);
      else if (kind === 'else') stack[stack.length - 1] = null;
      else stack.pop();
      return;
    }
    const x86 = stack.includes('x86');
    if ((X86.test(code) && !x86) || (ASM.test(code) && !x86 && !stack.includes('arm'))) out.push(`${i + 1}: ${line.trim()}`);
  });
  return out;
}

describe('native/cpu portability (aarch64)', () => {
  const files = readdirSync(DIR).filter((f) => /\.(cc|h)$/.test(f));
  it.each(files)('%s: x86 intrinsics and inline asm only under #if defined(__x86_64__)', (f) => {
    expect(unguarded(readFileSync(path.join(DIR, f), 'utf8'))).toEqual([]);
  });

  it('the checker finds an unguarded intrinsic and accepts a guarded one', () => {
    expect(unguarded('#include <immintrin.h>\n__m256 x;')).toHaveLength(2);
    expect(unguarded('#if defined(__x86_64__) && defined(__AVX2__)\n__m256 x;\n#else\nfloat x;\n#endif')).toEqual([]);
    expect(unguarded('#if defined(__x86_64__)\n#else\nasm("");\n#endif')).toHaveLength(1);
    expect(unguarded('#if defined(__x86_64__)\nasm("");\n#elif defined(__aarch64__)\nasm("");\n#else\nint v;\n#endif')).toEqual([]);
    expect(unguarded('#if defined(__aarch64__)\n__m256 x;\n#endif')).toHaveLength(1);
  });
});
