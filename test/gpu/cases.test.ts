// The CPU self-check of the CUDA-vs-CPU kernel suite (test/gpu/kernels.gpu.test.ts): every kernel
// of kernels.h has a case, and every case is valid — it runs on the CPU backend at each of its
// dtypes, changes at least one output (so the GPU comparison compares something) and gives the
// same bits twice. This runs everywhere, so the cases are right before a GPU ever sees them.
import { beforeAll, describe, expect, test } from 'vitest';
import { caseDTypes, fromBytes, generate, loadContract, runOn, type KernelDecl } from './harness';
import { ALL_CASES } from './all-cases';
import { HARNESS_KERNELS } from './kernel-cases';

let decls: Map<string, KernelDecl>;

beforeAll(async () => {
  decls = new Map((await loadContract()).map((k) => [k.name, k]));
});

describe('GPU kernel cases', () => {
  test('every kernel of kernels.h has a case, and every case names a kernel', () => {
    const covered = new Set([...ALL_CASES.map((c) => c.kernel), ...HARNESS_KERNELS]);
    expect([...decls.keys()].filter((k) => !covered.has(k))).toEqual([]);
    expect(ALL_CASES.map((c) => c.kernel).filter((k) => !decls.has(k))).toEqual([]);
  });

  for (const c of ALL_CASES) {
    test(`${c.kernel} ${c.label}: runs on the CPU, writes its outputs, deterministic`, () => {
      const decl = decls.get(c.kernel)!;
      for (const dtype of caseDTypes(decl, c)) {
        const data = generate(decl, c, dtype);
        const first = runOn(0, decl, data);
        const second = runOn(0, decl, data);
        expect(first.size, `${c.kernel} has outputs`).toBeGreaterThan(0);
        let changed = false;
        for (const [key, values] of first) {
          expect(Array.from(second.get(key)!), `${c.kernel} ${dtype} ${key} deterministic`).toEqual(Array.from(values));
          const name = key.replace(/\[\d+\]$/, '');
          const before = data.buffers.get(name) ?? data.lists.get(name)?.[Number(/\[(\d+)\]/.exec(key)?.[1] ?? 0)];
          const init = fromBytes(before!.bytes, before!.dtype, before!.count);
          if (values.some((v, i) => !(Object.is(v, init[i])))) changed = true;
        }
        expect(changed, `${c.kernel} ${dtype ?? ''}: the case changes an output`).toBe(true);
      }
    });
  }
});

