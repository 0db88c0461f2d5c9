// Tests of src/data/cifar.ts on small files written here (CIFAR itself is not on the test
// machines): CIFAR-10 in the tarball's folder and flat, CIFAR-100's fine labels, then one test
// per bad input (truncated file, label out of range, missing files), each naming file and problem.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifarFiles, loadCifarDataset, parseCifar } from '../../src/data/cifar';
import { NORMALIZATION } from '../../src/data/dataset';
import { cifarBytes, expectFileError, pixelBytes, tempDir, writeFile } from './formats';

const dir = tempDir('cifar');
let count = 0;
const sub = (): string => {
  const d = path.join(dir, `case${count++}`);
  fs.mkdirSync(d);
  return d;
};

/** Writes the six CIFAR-10 files (batch b holds b+1 records) under `folder`; returns all pixels and labels. */
function writeCifar10(root: string, folder: string): { train: Uint8Array; trainLabels: number[]; test: Uint8Array; testLabels: number[] } {
  const train: Uint8Array[] = [];
  const trainLabels: number[] = [];
  for (let b = 1; b <= 5; b++) {
    const labels = Array.from({ length: b }, (_, i) => (b + i) % 10);
    const px = pixelBytes(b * 3072, b);
    writeFile(root, path.join(folder, `data_batch_${b}.bin`), cifarBytes(labels.map((l) => [l]), px));
    train.push(px);
    trainLabels.push(...labels);
  }
  const test = pixelBytes(2 * 3072, 9);
  writeFile(root, path.join(folder, 'test_batch.bin'), cifarBytes([[9], [0]], test));
  return { train: Uint8Array.from(train.flatMap((a) => [...a])), trainLabels, test, testLabels: [9, 0] };
}

describe('CIFAR binary round trips', () => {
  for (const folder of ['cifar-10-batches-bin', '.']) {
    it(`CIFAR-10 with the files in ${folder === '.' ? 'DIR itself' : `DIR/${folder}`}: 5 batches concatenated in order`, () => {
      const d = sub();
      const want = writeCifar10(d, folder);
      const train = loadCifarDataset(d, 'cifar10', 'train');
      expect([train.size, train.channels, train.height, train.width, train.numClasses]).toEqual([15, 3, 32, 32, 10]);
      expect([...train.labels]).toEqual(want.trainLabels);
      expect(train.pixels).toEqual(want.train);
      expect(train.normalization.mean).toEqual([...NORMALIZATION.cifar10.mean]);
      const test = loadCifarDataset(d, 'cifar10', 'test');
      expect([...test.labels]).toEqual(want.testLabels);
      expect(test.getImages([1])).toEqual(want.test.subarray(3072));
    });
  }

  it('CIFAR-100 (DIR/cifar-100-binary): the fine label (second byte) is used, 100 classes', () => {
    const d = sub();
    const px = pixelBytes(3 * 3072, 4);
    writeFile(d, 'cifar-100-binary/train.bin', cifarBytes([[19, 99], [0, 42], [7, 0]], px));
    writeFile(d, 'cifar-100-binary/test.bin', cifarBytes([[1, 2]], px.subarray(0, 3072)));
    const train = loadCifarDataset(d, 'cifar100', 'train');
    expect([...train.labels]).toEqual([99, 42, 0]);
    expect(train.numClasses).toBe(100);
    expect(train.pixels).toEqual(px);
    expect(train.name).toBe('cifar100-train');
    expect([...loadCifarDataset(d, 'cifar100', 'test').labels]).toEqual([2]);
  });
});

describe('CIFAR errors name the file and the problem', () => {
  it('truncated CIFAR-10 batch: size not a multiple of 3073 bytes', () => {
    const d = sub();
    writeCifar10(d, '.');
    const file = path.join(d, 'data_batch_3.bin');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expectFileError(() => loadCifarDataset(d, 'cifar10', 'train'), file,
      /truncated: 9119 bytes is not a multiple of the 3073-byte cifar10 record \(2 whole records and 2973 bytes left\)/);
  });

  it('bad label: CIFAR-10 label 10, CIFAR-100 coarse label 20 and fine label 100', () => {
    const d = sub();
    const px = pixelBytes(2 * 3072);
    expectFileError(() => parseCifar(cifarBytes([[3], [10]], px), 'b10.bin', 'cifar10'), 'b10.bin',
      /label 10 of record 1 \(byte offset 3073\) is out of range for 10 classes/);
    expectFileError(() => parseCifar(cifarBytes([[20, 1], [0, 0]], px), 'c.bin', 'cifar100'), 'c.bin',
      /coarse label 20 of record 0 .* out of range for 20 classes/);
    const file = writeFile(d, 'train.bin', cifarBytes([[0, 0], [1, 100]], px));
    expectFileError(() => loadCifarDataset(d, 'cifar100', 'train'), file, /fine label 100 of record 1 \(byte offset 3075\)/);
  });

  it('missing files: the directory is named with the names looked for', () => {
    const d = sub();
    expectFileError(() => cifarFiles(d, 'cifar10', 'test'), d, /no cifar10 test file \(looked for cifar-10-batches-bin\/test_batch.bin, test_batch.bin\)/);
  });

  it('missing later batch: the unreadable file is named with the OS error', () => {
    const d = sub();
    writeCifar10(d, 'cifar-10-batches-bin');
    const file = path.join(d, 'cifar-10-batches-bin', 'data_batch_4.bin');
    fs.rmSync(file);
    expectFileError(() => loadCifarDataset(d, 'cifar10', 'train'), file, /cannot read: ENOENT/);
  });

  it('empty file', () => {
    expectFileError(() => parseCifar(new Uint8Array(0), 'e.bin', 'cifar10'), 'e.bin', /empty file/);
  });
});
