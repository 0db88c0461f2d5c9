// Image-folder scanning: class index from sorted folder names, numeric (ImageNet-V2) folders by
// number, flat val/ with each labels-file form, the data spec, and errors that name the file.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classIndex, scanEvalFolder, scanImageFolder } from '../../src/data/image-folder';
import { parseDataSpec } from '../../src/data/spec';
import { tempDir } from '../helpers/image-tree';

let root: string;
const touch = (f: string) => {
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, 'x');  // contents are not read by the scan
};
beforeAll(() => {
  root = tempDir('lw-folder-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: string[]): string {
  const dir = path.join(root, name);
  for (const f of files) touch(path.join(dir, f));
  return dir;
}

describe('image folder scan', () => {
  it('indexes classes by sorted folder name and lists image files sorted, case-insensitive extensions', () => {
    const dir = tree('named', ['train/b/2.JPEG', 'train/b/1.jpg', 'train/a/z.png', 'train/a/notes.txt', 'train/C/x.WebP', 'val/a/v.jpeg', 'val/C/w.JPEG']);
    const { train, val } = scanImageFolder(dir);
    expect(train.classes).toEqual(['C', 'a', 'b']);  // code-point order, as Python's sorted()
    expect(train.files.map((f) => path.relative(dir, f))).toEqual(['train/C/x.WebP', 'train/a/z.png', 'train/b/1.jpg', 'train/b/2.JPEG']);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 2]);
    expect(val.files.map((f) => path.relative(dir, f))).toEqual(['val/C/w.JPEG', 'val/a/v.jpeg']);
    expect(Array.from(val.labels)).toEqual([0, 1]);
  });

  it('uses the numbers of numeric folders (ImageNet-V2): folder 10 is class 10', () => {
    expect(classIndex(['0', '1', '10', '2']).index.get('10')).toBe(10);
    const dir = tree('numeric', ['train/0/a.jpg', 'train/1/a.jpg', 'train/10/a.jpg', 'train/2/a.jpg', 'val/10/b.jpg', 'val/2/b.jpg']);
    const { train, val } = scanImageFolder(dir);
    expect(train.numClasses).toBe(11);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 10]);
    expect(Array.from(val.labels)).toEqual([2, 10]);
    // A V2 tree evaluated against named training classes: the folder number is the class.
    const v2 = tree('v2', ['0/x.jpeg', '2/y.jpeg']);
    const e = scanEvalFolder(v2, ['n01', 'n02', 'n03']);
    expect(Array.from(e.labels)).toEqual([0, 2]);
    expect(() => scanEvalFolder(tree('v2big', ['5/x.jpeg']), ['n01', 'n02'])).toThrow(/class 5 is outside the 2 training classes/);
  });

  it('reads a flat val/ with labels.txt in both forms, and LOC_val_solution.csv', () => {
    const train = ['train/n01/a.jpg', 'train/n02/a.jpg', 'train/n03/a.jpg'];
    const pairs = tree('flat-pairs', [...train, 'val/v1.JPEG', 'val/v2.JPEG', 'val/v3.JPEG']);
    writeFileSync(path.join(pairs, 'val', 'labels.txt'), 'v2.JPEG n03\nv1.JPEG 1\nv3.JPEG n01\n');
    expect(Array.from(scanImageFolder(pairs).val.labels)).toEqual([1, 2, 0]);
    const lines = tree('flat-lines', [...train, 'val/v1.JPEG', 'val/v2.JPEG']);
    writeFileSync(path.join(lines, 'val_labels.txt'), 'n02\n0\n');
    expect(Array.from(scanImageFolder(lines).val.labels)).toEqual([1, 0]);
    const csv = tree('flat-csv', [...train, 'val/ILSVRC2012_val_00000001.JPEG', 'val/ILSVRC2012_val_00000002.JPEG']);
    writeFileSync(path.join(csv, 'LOC_val_solution.csv'), 'ImageId,PredictionString\nILSVRC2012_val_00000002,n01 1 2 3 4 n01 5 6 7 8\nILSVRC2012_val_00000001,n03 0 0 9 9\n');
    expect(Array.from(scanImageFolder(csv).val.labels)).toEqual([2, 0]);
  });

  it('names the file or folder in its errors', () => {
    const noLabels = tree('flat-none', ['train/a/x.jpg', 'val/v.jpg']);
    expect(() => scanImageFolder(noLabels)).toThrow(/labels\.txt/);
    const short = tree('flat-short', ['train/a/x.jpg', 'val/v1.jpg', 'val/v2.jpg']);
    writeFileSync(path.join(short, 'val', 'labels.txt'), 'a\n');
    expect(() => scanImageFolder(short)).toThrow(/labels\.txt: 1 labels for the 2 images/);
    const unknown = tree('flat-unknown', ['train/a/x.jpg', 'val/v1.jpg']);
    writeFileSync(path.join(unknown, 'val', 'labels.txt'), 'v1.jpg zebra\n');
    expect(() => scanImageFolder(unknown)).toThrow(/line 1: label 'zebra'/);
    const strange = tree('val-class', ['train/a/x.jpg', 'val/b/y.jpg']);
    expect(() => scanImageFolder(strange)).toThrow(new RegExp(`${path.join(strange, 'val', 'b').replace(/[/.]/g, '\\$&')}: class folder 'b' is not one of the 1 training classes`));
    expect(() => scanImageFolder(path.join(root, 'absent'))).toThrow(/absent\/train: missing/);
    expect(() => scanImageFolder(tree('empty-class', ['train/a/readme.txt', 'val/a/x.jpg']))).toThrow(/no image files/);
  });

  it('is selected by --data imagenet:DIR and folder:DIR', () => {
    expect(parseDataSpec('imagenet:/data/in1k').folder).toBe('/data/in1k');
    expect(parseDataSpec('folder:/x:y').folder).toBe('/x:y');
    expect(() => parseDataSpec('folder:')).toThrow(/folder needs a directory/);
  });
});
