// Tests of src/data/idx.ts: raw and gzipped round trips (through parseIdx, the readers and
// loadIdxDataset), then one test per bad input, each checking that the FileFormatError names the
// file and the problem.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NORMALIZATION } from '../../src/data/dataset';
import { IDX_IMAGES_MAGIC, loadIdxDataset, parseIdx, readIdxImages, readIdxLabels } from '../../src/data/idx';
import { expectFileError, idxBytes, pixelBytes, tempDir, writeFile, writeIdxSplit } from './formats';

const dir = tempDir('idx');
let count = 0;
const sub = (): string => {
  const d = path.join(dir, `case${count++}`);
  fs.mkdirSync(d);
  return d;
};

describe('IDX round trips', () => {
  for (const gzip of [false, true]) {
    it(`${gzip ? 'gzipped' : 'raw'}: 7 images of 5x4 and their labels read back byte for byte`, () => {
      const d = sub();
      const pixels = pixelBytes(7 * 5 * 4, gzip ? 1 : 2);
      const labels = [3, 0, 9, 1, 1, 5, 7];
      const files = writeIdxSplit(d, 'train', pixels, labels, 5, 4, gzip);
      const images = readIdxImages(files.images);
      expect([images.count, images.height, images.width]).toEqual([7, 5, 4]);
      expect(images.pixels).toEqual(pixels);
      expect([...readIdxLabels(files.labels)]).toEqual(labels);
      const ds = loadIdxDataset(d, 'train', { variant: 'fashion-mnist' });
      expect([ds.size, ds.channels, ds.height, ds.width, ds.numClasses, ds.kind]).toEqual([7, 1, 5, 4, 10, 'u8']);
      expect(ds.name).toBe('fashion-mnist-train');
      expect(ds.normalization).toEqual({ mean: [...NORMALIZATION['fashion-mnist'].mean], std: [...NORMALIZATION['fashion-mnist'].std] });
      expect(ds.getImages([2, 0])).toEqual(Uint8Array.from([...pixels.subarray(40, 60), ...pixels.subarray(0, 20)]));
      expect([...ds.getLabels([2, 0])]).toEqual([9, 3]);
    });
  }

  it('test split: t10k files, and the .idx3-ubyte spelling', () => {
    const d = sub();
    const pixels = pixelBytes(3 * 2 * 2);
    writeFile(d, 't10k-images.idx3-ubyte', idxBytes(0x803, [3, 2, 2], pixels));
    writeFile(d, 't10k-labels.idx1-ubyte', idxBytes(0x801, [3], [2, 1, 0]));
    const ds = loadIdxDataset(d, 'test');
    expect(ds.name).toBe('mnist-test');
    expect([...ds.labels]).toEqual([2, 1, 0]);
    expect(ds.getImages([0, 1, 2])).toEqual(pixels);
  });

  it('parseIdx returns the sizes and a view of the data', () => {
    const bytes = idxBytes(IDX_IMAGES_MAGIC, [2, 1, 3], [1, 2, 3, 4, 5, 6]);
    const { dims, data } = parseIdx(bytes, 'mem', IDX_IMAGES_MAGIC);
    expect(dims).toEqual([2, 1, 3]);
    expect([...data]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('IDX errors name the file and the problem', () => {
  it('truncated images file (data shorter than the header says)', () => {
    const d = sub();
    const full = idxBytes(0x803, [4, 3, 3], pixelBytes(36));
    const file = writeFile(d, 'train-images-idx3-ubyte', full.subarray(0, full.length - 5));
    expectFileError(() => readIdxImages(file), file, /truncated: header says 4 x 3 x 3 = 36 bytes of data, the file has 31/);
  });

  it('truncated gzipped file (cut gzip stream)', () => {
    const d = sub();
    const file = writeFile(d, 'x.gz', idxBytes(0x803, [4, 3, 3], pixelBytes(36)), true);
    const gz = fs.readFileSync(file);
    fs.writeFileSync(file, gz.subarray(0, gz.length - 10));
    expectFileError(() => readIdxImages(file), file, /invalid gzip data.*unexpected end of file/);
  });

  it('truncated header', () => {
    const d = sub();
    const file = writeFile(d, 'short', idxBytes(0x803, [4, 3, 3], []).subarray(0, 9));
    expectFileError(() => readIdxImages(file), file, /truncated: 9 bytes, the 3-dimensional IDX header needs 16/);
  });

  it('trailing bytes after the data', () => {
    const d = sub();
    const file = writeFile(d, 'long', idxBytes(0x801, [3], [1, 2, 3, 4]));
    expectFileError(() => readIdxLabels(file), file, /1 unexpected bytes after the data/);
  });

  it('wrong magic: a labels file read as images', () => {
    const d = sub();
    const file = writeFile(d, 'labels-as-images', idxBytes(0x801, [3], [1, 2, 3]), true);
    expectFileError(() => readIdxImages(file), file, /wrong magic number 0x00000801, expected 0x00000803 \(IDX images/);
  });

  it('mismatched counts: 5 images, 4 labels', () => {
    const d = sub();
    const imgs = writeFile(d, 'train-images-idx3-ubyte', idxBytes(0x803, [5, 2, 2], pixelBytes(20)));
    const labels = writeFile(d, 'train-labels-idx1-ubyte', idxBytes(0x801, [4], [0, 1, 2, 3]));
    const err = expectFileError(() => loadIdxDataset(d, 'train'), labels, /has 4 labels but .* has 5 images/);
    expect(err.message).toContain(imgs);
  });

  it('label out of range (10 with 10 classes; 3 with numClasses 3)', () => {
    const d = sub();
    const file = writeFile(d, 'labels', idxBytes(0x801, [3], [0, 10, 1]));
    expectFileError(() => readIdxLabels(file), file, /label 10 at index 1 is out of range for 10 classes/);
    const file3 = writeFile(d, 'labels3', idxBytes(0x801, [3], [0, 2, 3]));
    expectFileError(() => readIdxLabels(file3, 3), file3, /label 3 at index 2 is out of range for 3 classes/);
  });

  it('unreadable path: the OS error is in the message', () => {
    const file = path.join(dir, 'does-not-exist', 'train-images-idx3-ubyte.gz');
    expectFileError(() => readIdxImages(file), file, /cannot read: ENOENT/);
  });

  it('directory without the split files lists the names looked for', () => {
    const d = sub();
    expectFileError(() => loadIdxDataset(d, 'test'), d, /no test images file \(looked for t10k-images-idx3-ubyte, /);
    const missing = path.join(dir, 'nope');
    expectFileError(() => loadIdxDataset(missing, 'train'), missing, /cannot read: ENOENT/);
  });
});
