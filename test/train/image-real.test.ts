// ImageNet-ReaL scoring: label lists matched to validation images by sorted file name (the
// ILSVRC2012_val_* order of real.json), top-1 = share of the images with a non-empty list whose
// prediction is in the list; images with no label are left out. Hand-computed toy cases.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRealLabels, parseRealLabels, realTop1 } from '../../src/train/real';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ReaL', () => {
  it('scores top-1 over the images that have labels', () => {
    // 5 images: hits on 0 (1 in [1]), 1 (2 in [0, 2]), miss on 3 (0 not in [2]), 2 and 4 have no labels.
    const labels = [[1], [0, 2], [], [2], []];
    expect(realTop1([1, 2, 0, 0, 1], labels)).toEqual({ top1: (100 * 2) / 3, counted: 3 });
    expect(realTop1([0, 0, 0, 2, 0], labels)).toEqual({ top1: (100 * 2) / 3, counted: 3 });
    expect(realTop1([-1, -1, -1, -1, -1], labels).top1).toBe(0);
    expect(Number.isNaN(realTop1([0], [[]]).top1)).toBe(true);
  });

  it('matches the list entries to the validation files by sorted file name', () => {
    const file = path.join(dir, 'real.json');
    writeFileSync(file, JSON.stringify([[0], [1, 2], [], [2]]));
    // The split lists class folder by class folder: val_4 (class a), val_2, val_1 (class b), val_3 (class c).
    const files = ['a/ILSVRC2012_val_00000004.JPEG', 'b/ILSVRC2012_val_00000002.JPEG', 'b/ILSVRC2012_val_00000001.JPEG', 'c/ILSVRC2012_val_00000003.JPEG'];
    const real = loadRealLabels(file, files.map((f) => path.join('/v', f)), 3);
    expect(real.labels).toEqual([[2], [1, 2], [0], []]);
    // predictions per split position: val_4 -> 2 (hit), val_2 -> 0 (miss), val_1 -> 0 (hit), val_3 -> anything (left out)
    expect(realTop1([2, 0, 0, 1], real.labels)).toEqual({ top1: (100 * 2) / 3, counted: 3 });
  });

  it('names the file and the entry in its errors', () => {
    expect(() => parseRealLabels('r.json', '{"a": 1}', 10)).toThrow(/r\.json: expected a JSON list/);
    expect(() => parseRealLabels('r.json', '[[1], [10]]', 10)).toThrow(/r\.json: entry 1 \(\[10\]\) is not a list of class indices in \[0, 10\)/);
    expect(() => parseRealLabels('r.json', '[[1], ', 10)).toThrow(/r\.json: not JSON/);
    const file = path.join(dir, 'short.json');
    writeFileSync(file, '[[0]]');
    expect(() => loadRealLabels(file, ['/v/x.JPEG', '/v/y.JPEG'], 3)).toThrow(/1 label lists for the 2 validation images/);
  });
});
