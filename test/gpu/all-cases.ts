// Every kernel case of the CUDA-vs-CPU suite: kernel-cases.ts (at least one per kernel) and the
// families' own files (cases-<family>.ts: the paths of one family's CUDA code that the first misses).
import { extraCases as convCases } from './cases-conv';
import { extraCases as elemCases } from './cases-elem';
import { extraCases as normCases } from './cases-norm';
import { extraCases as optimCases } from './cases-optim';
import type { KernelCase } from './harness';
import { KERNEL_CASES } from './kernel-cases';

export const ALL_CASES: readonly KernelCase[] = [...KERNEL_CASES, ...convCases, ...elemCases, ...normCases, ...optimCases];
