// Comparison helpers for tests: a failed comparison names the largest absolute and relative
// difference, where they occur, and the first mismatching elements.
import { expect } from 'vitest';

export interface Tolerance {
  atol: number;
  rtol: number;
}

type Numeric = ArrayLike<number>;

/** Describes how `actual` differs from `expected`; null when every |a-e| <= atol + rtol*|e|. */
export function describeMismatch(actual: Numeric, expected: Numeric, tol: Tolerance): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} != expected ${expected.length}`;
  let maxAbs = 0;
  let maxAbsAt = -1;
  let maxRel = 0;
  let maxRelAt = -1;
  const bad: string[] = [];
  let badCount = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    const ok = diff <= tol.atol + tol.rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e)) || a === e;
    if (Number.isNaN(diff) && !ok) {
      maxAbs = NaN;
      maxAbsAt = i;
    } else if (diff > maxAbs) {
      maxAbs = diff;
      maxAbsAt = i;
    }
    const rel = diff / Math.max(Math.abs(e), 1e-30);
    if (rel > maxRel) {
      maxRel = rel;
      maxRelAt = i;
    }
    if (!ok) {
      badCount++;
      if (bad.length < 5) bad.push(`[${i}] got ${a} expected ${e}`);
    }
  }
  if (badCount === 0) return null;
  return (
    `${badCount}/${actual.length} elements outside atol=${tol.atol} rtol=${tol.rtol}; ` +
    `max abs diff ${maxAbs} at [${maxAbsAt}], max rel diff ${maxRel} at [${maxRelAt}]; first: ${bad.join('; ')}`
  );
}

/** Asserts closeness with a message that explains the mismatch. */
export function expectClose(actual: Numeric, expected: Numeric, tol: Tolerance, label = ''): void {
  const problem = describeMismatch(actual, expected, tol);
  if (problem !== null) expect.fail(`${label ? label + ': ' : ''}${problem}`);
}
