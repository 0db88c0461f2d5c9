// classification_counts (native/cpu/loss.cc) against the float64 reference of
// test/reference/loss.ts: top-1 / top-k / non-finite row counts accumulated into an int32 buffer,
// ties ranked by class index, NaN and infinite logits counted as wrong, float32 / bfloat16 /
// float16 logits (rounded to the dtype first: the counts are exact), out-of-range labels.
import { describe, expect, test } from 'vitest';
import { FLOAT_DTYPES, i32, kernels, readI32, roundTo, typed, type FloatName } from '../helpers/native';
import { randint, randn } from '../helpers/random';
import * as ref from '../reference/loss';

function counts(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, k: number, dtype: FloatName = 'float32', start = [0, 0, 0]): number[] {
  const out = i32(start);
  kernels.classification_counts(out, typed(logits, dtype), i32(labels), dtype, labels.length, classes, k);
  return Array.from(readI32(out, 3));
}

describe('classification_counts', () => {
  for (const dtype of FLOAT_DTYPES) {
    for (const [rows, classes, k] of [[64, 10, 5], [300, 100, 5], [5, 3, 1], [40_000, 10, 5]]) {
      test(`${dtype} rows=${rows} classes=${classes} k=${k} equals the reference (exact)`, () => {
        // Coarse logits (a few distinct values per row) so that ties are common.
        const logits = roundTo(Float32Array.from(randn(rows * classes, rows + classes), (v) => Math.round(v * 2) / 2), dtype);
        const labels = randint(rows, classes, 3);
        expect(counts(logits, labels, classes, k, dtype)).toEqual(ref.classificationCounts(logits, labels, classes, k));
      });
    }
  }

  test('ties: an equal logit at a lower class index ranks above the label, at a higher one below', () => {
    // Row 0: label 1 ties class 0 (lower index): not top-1, but top-2. Row 1: label 0 ties class 1: top-1.
    expect(counts([3, 3, 1, 3, 3, 1], [1, 0], 3, 2)).toEqual([1, 2, 0]);
    expect(counts([3, 3, 1], [1], 3, 1)).toEqual([0, 0, 0]);
  });

  test('NaN, +inf and -inf logits make the row wrong for top-1 and top-k and count as non-finite', () => {
    const logits = [
      9, NaN, 1, // label 0 would be top-1 but the row has a NaN
      -Infinity, 5, 1, // label 1 would be top-1 but -inf is non-finite
      Infinity, 0, 0, // label 0 at +inf
      NaN, NaN, NaN, // all NaN
      1, 2, 3, // finite: label 2 is top-1
    ];
    expect(counts(logits, [0, 1, 0, 2, 2], 3, 3)).toEqual([1, 1, 4]);
    for (const dtype of FLOAT_DTYPES) expect(counts(logits, [0, 1, 0, 2, 2], 3, 3, dtype)).toEqual([1, 1, 4]);
  });

  test('a float16 logit that overflows the dtype is non-finite', () => {
    expect(counts([70000, 1], [0], 2, 1, 'float16')).toEqual([0, 0, 1]);
    expect(counts([70000, 1], [0], 2, 1, 'bfloat16')).toEqual([1, 1, 0]);
  });

  test('accumulates across calls into the same buffer', () => {
    const out = i32([0, 0, 0]);
    const batches: [number[], number[]][] = [
      [[1, 0, 0, 1], [0, 0]], // top-1: row 0 yes, row 1 no (label 0 < 1)
      [[NaN, 0, 2, 3], [1, 1]], // row 0 non-finite, row 1 top-1
    ];
    for (const [logits, labels] of batches) kernels.classification_counts(out, typed(logits, 'float32'), i32(labels), 'float32', labels.length, 2, 1);
    expect(Array.from(readI32(out, 3))).toEqual([2, 2, 1]);
    expect(counts([1, 0], [0], 2, 1, 'float32', [10, 20, 30])).toEqual([11, 21, 30]);
  });

  test('k >= classes counts every finite row in top-k; rows = 0 adds nothing', () => {
    expect(counts([1, 2, 3, 4, NaN, 0], [0, 1, 1], 2, 7)).toEqual([1, 2, 1]);
    expect(counts([], [], 10, 5)).toEqual([0, 0, 0]);
  });

  for (const bad of [3, -1]) {
    test(`label ${bad} outside [0, 3) is an error naming the op, row and label; counts unchanged`, () => {
      const out = i32([5, 5, 5]);
      expect(() => kernels.classification_counts(out, typed([1, 2, 3, 4, 5, 6], 'float32'), i32([0, bad]), 'float32', 2, 3, 1)).toThrow(
        new RegExp(`classification_counts.*label ${bad} at row 1`),
      );
      expect(Array.from(readI32(out, 3))).toEqual([5, 5, 5]);
    });
  }

  test('int32 logits are rejected naming the dtype', () => {
    expect(() => kernels.classification_counts(i32([0, 0, 0]), i32([1, 2]), i32([0]), 'int32', 1, 2, 1)).toThrow(/classification_counts.*int32/);
  });
});
