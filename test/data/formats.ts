// Test helpers of test/data/: writers of small files in the dataset formats (IDX, CIFAR binary),
// a per-file temporary directory, and an assertion that an error is a FileFormatError naming a
// file and the problem.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, expect } from 'vitest';
import { FileFormatError } from '../../src/errors';

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `layerwise-${prefix}-`));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An IDX file's bytes: big-endian magic, sizes, then `data`. */
export function idxBytes(magic: number, dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(Uint8Array.from(data), 4 + 4 * dims.length);
  return out;
}

/** Deterministic pixel bytes. */
export function pixelBytes(n: number, salt = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + salt * 101 + ((i * i) >>> 3)) & 0xff);
}

/** Writes `bytes` to dir/name, gzipped when asked; returns the path. */
export function writeFile(dir: string, name: string, bytes: Uint8Array, gzip = false): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, gzip ? zlib.gzipSync(bytes) : bytes);
  return file;
}

/** Writes an IDX split (images and labels) into `dir`; returns the two paths. */
export function writeIdxSplit(
  dir: string, prefix: 'train' | 't10k', images: Uint8Array, labels: ArrayLike<number>, h: number, w: number, gzip: boolean,
): { images: string; labels: string } {
  const ext = gzip ? '.gz' : '';
  return {
    images: writeFile(dir, `${prefix}-images-idx3-ubyte${ext}`, idxBytes(0x803, [labels.length, h, w], images), gzip),
    labels: writeFile(dir, `${prefix}-labels-idx1-ubyte${ext}`, idxBytes(0x801, [labels.length], labels), gzip),
  };
}

/** CIFAR records: [label bytes..., 3072 pixels] per sample. */
export function cifarBytes(labels: number[][], pixels: Uint8Array): Uint8Array {
  const lb = labels[0]?.length ?? 1;
  const record = lb + 3072;
  const out = new Uint8Array(labels.length * record);
  labels.forEach((ls, r) => {
    out.set(ls, r * record);
    out.set(pixels.subarray(r * 3072, (r + 1) * 3072), r * record + lb);
  });
  return out;
}

/** Runs fn, expecting a FileFormatError that names `file` and whose message matches `problem`. */
export function expectFileError(fn: () => unknown, file: string, problem: RegExp): FileFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a FileFormatError').toBeInstanceOf(FileFormatError);
  const err = caught as FileFormatError;
  expect(err.file).toBe(file);
  expect(err.message.startsWith(`${file}: `)).toBe(true);
  expect(err.message).toMatch(problem);
  return err;
}
