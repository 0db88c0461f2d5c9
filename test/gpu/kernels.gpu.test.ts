// Every kernel of kernels.h on CUDA against the CPU backend on the same inputs (the cases of
// test/gpu/kernel-cases.ts, at float32, bfloat16 and float16, NCHW and NHWC where the kernel
// has a layout). Tolerances per dtype (harness.ts tolerance()): float32 1e-5 relative, TF32
// GEMMs/convolutions 1e-2, bfloat16 2e-2, float16 2e-3, times a case's factor for long sums;
// integer and mask outputs must be identical. The float32 GEMM and convolution cases also run with
// TF32 off, at 1e-4.
import { beforeAll, describe, expect, test } from 'vitest';
import { setTf32 } from '../../src/native/cuda-backend';
import { describeMismatch } from '../helpers/compare';
import { CUDA, gpu } from './cuda';
import { caseDTypes, generate, loadContract, runOn, tolerance, type KernelCase, type KernelDecl } from './harness';
import { ALL_CASES } from './all-cases';

const available = gpu();
let decls: Map<string, KernelDecl>;

beforeAll(async () => {
  decls = new Map((await loadContract()).map((k) => [k.name, k]));
});

function compareCase(c: KernelCase, tf32: boolean): string[] {
  const decl = decls.get(c.kernel)!;
  const problems: string[] = [];
  for (const dtype of caseDTypes(decl, c)) {
    const data = generate(decl, c, dtype);
    const expected = runOn(0, decl, data);
    const actual = runOn(CUDA, decl, data);
    const tol = tf32 || dtype !== 'float32' ? tolerance(dtype, c) : { atol: 1e-4 * (c.tolScale ?? 1), rtol: 1e-4 * (c.tolScale ?? 1) };
    for (const [key, want] of expected) {
      const isInteger = decl.params.some((p) => p.name === key.replace(/\[\d+\]$/, '') && (p.dtype === 'i32' || p.dtype === 'u8'));
      const why = describeMismatch(actual.get(key)!, want, isInteger ? { atol: 0, rtol: 0 } : tol);
      if (why) problems.push(`${dtype ?? ''} ${key}: ${why}`);
    }
  }
  return problems;
}

describe.skipIf(!available.ok)(`CUDA kernels against the CPU backend (${available.reason})`, () => {
  for (const c of ALL_CASES) {
    test(`${c.kernel} ${c.label}`, () => {
      setTf32(true);
      expect(compareCase(c, true)).toEqual([]);
    });
  }
  for (const c of ALL_CASES.filter((k) => k.tf32)) {
    test(`${c.kernel} ${c.label}, float32 without TF32`, () => {
      setTf32(false);
      try {
        expect(compareCase({ ...c, dtypes: ['float32'] }, false)).toEqual([]);
      } finally {
        setTf32(true);
      }
    });
  }
});
