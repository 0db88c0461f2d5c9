// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
// a big-endian magic number 0x0000TTDD (TT the element type, 0x08 = unsigned byte; DD the number
// of dimensions), DD big-endian u32 sizes, then the elements row-major. Images are 0x00000803
// (N, H, W), labels 0x00000801 (N). Files may be gzipped (detected by magic bytes). Every check
// failure is a FileFormatError naming the file: unreadable, truncated, trailing bytes, wrong
// magic, image/label counts that disagree, labels outside [0, classes).
import { FileFormatError } from '../errors';
import { NORMALIZATION, U8ArrayDataset, type Normalization, type Split } from './dataset';
import { findFile, missingFile, readMaybeGzip } from './read';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxArray {
  /** Sizes from the header. */
  dims: number[];
  /** The elements, row-major (a view into the file's bytes). */
  data: Uint8Array;
}

const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/** Parses an unsigned-byte IDX array with the given magic number; `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string, magic: number): IdxArray {
  const what = magic === IDX_IMAGES_MAGIC ? 'IDX images, u8, 3 dimensions' : magic === IDX_LABELS_MAGIC
    ? 'IDX labels, u8, 1 dimension' : 'IDX';
  if (bytes.length < 4) throw new FileFormatError(file, `truncated: ${bytes.length} bytes, too short for an IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) throw new FileFormatError(file, `wrong magic number ${hex(found)}, expected ${hex(magic)} (${what})`);
  const ndim = magic & 0xff;
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw new FileFormatError(file, `truncated: ${bytes.length} bytes, the ${ndim}-dimensional IDX header needs ${header}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count;
  if (bytes.length < expected) {
    throw new FileFormatError(file, `truncated: header says ${dims.join(' x ')} = ${count} bytes of data, `
      + `the file has ${bytes.length - header} (${bytes.length} bytes in all, expected ${expected})`);
  }
  if (bytes.length > expected) {
    throw new FileFormatError(file, `${bytes.length - expected} unexpected bytes after the data `
      + `(header says ${dims.join(' x ')}; expected ${expected} bytes in all, the file has ${bytes.length})`);
  }
  return { dims, data: bytes.subarray(header, expected) };
}

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  /** (N, H, W) */
  pixels: Uint8Array;
}

/** Reads an IDX images file (gzipped or not). */
export function readIdxImages(file: string): IdxImages {
  const { dims, data } = parseIdx(readMaybeGzip(file), file, IDX_IMAGES_MAGIC);
  return { count: dims[0], height: dims[1], width: dims[2], pixels: data };
}

/** Reads an IDX labels file (gzipped or not); every label must be below `numClasses`. */
export function readIdxLabels(file: string, numClasses = 10): Int32Array {
  const { data } = parseIdx(readMaybeGzip(file), file, IDX_LABELS_MAGIC);
  const labels = Int32Array.from(data);
  const bad = labels.findIndex((v) => v >= numClasses);
  if (bad >= 0) {
    throw new FileFormatError(file, `label ${labels[bad]} at index ${bad} is out of range for ${numClasses} classes`);
  }
  return labels;
}

export interface IdxDatasetOptions {
  /** Which statistics and name to use ('mnist' by default: the two sets share their file names). */
  variant?: 'mnist' | 'fashion-mnist';
  numClasses?: number;
  /** Overrides the variant's statistics. */
  normalization?: Normalization;
}

const PREFIX: Record<Split, string> = { train: 'train', test: 't10k' };

/** The candidate file names of one split's images or labels, raw and gzipped, in lookup order. */
export function idxFileNames(split: Split, part: 'images' | 'labels'): string[] {
  const ext = part === 'images' ? 'idx3-ubyte' : 'idx1-ubyte';
  const stems = [`${PREFIX[split]}-${part}-${ext}`, `${PREFIX[split]}-${part}.${ext}`];
  return stems.flatMap((s) => [s, `${s}.gz`]);
}

/**
 * Loads a split of MNIST or Fashion-MNIST from `dir`, which holds the files as distributed
 * (`train-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte`, ...; `.idx3-ubyte` spellings too).
 */
export function loadIdxDataset(dir: string, split: Split, options: IdxDatasetOptions = {}): U8ArrayDataset {
  const variant = options.variant ?? 'mnist';
  const numClasses = options.numClasses ?? 10;
  const find = (part: 'images' | 'labels'): string => {
    const names = idxFileNames(split, part);
    const file = findFile(dir, names);
    if (file === undefined) throw missingFile(dir, `${split} ${part}`, names);
    return file;
  };
  const imagesFile = find('images');
  const labelsFile = find('labels');
  const images = readIdxImages(imagesFile);
  const labels = readIdxLabels(labelsFile, numClasses);
  if (labels.length !== images.count) {
    throw new FileFormatError(labelsFile, `has ${labels.length} labels but ${imagesFile} has ${images.count} images`);
  }
  return new U8ArrayDataset({
    name: `${variant}-${split}`,
    source: imagesFile,
    numClasses,
    channels: 1,
    height: images.height,
    width: images.width,
    pixels: images.pixels,
    labels,
    normalization: options.normalization ?? NORMALIZATION[variant],
  });
}
