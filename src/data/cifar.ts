// The binary versions of CIFAR-10 and CIFAR-100 (https://www.cs.toronto.edu/~kriz/cifar.html,
// "Binary version"). CIFAR-10: data_batch_1..5.bin (train) and test_batch.bin, records of
// 1 label byte + 3072 pixel bytes (3 x 32 x 32, channel-major: 1024 red, 1024 green, 1024 blue).
// CIFAR-100: train.bin / test.bin, records of a coarse label byte, a fine label byte, 3072 pixel
// bytes; the fine label (100 classes) is used. The files are found where the official tarballs
// extract them (DIR/cifar-10-batches-bin/, DIR/cifar-100-binary/) or directly in DIR. A file whose
// size is not a multiple of the record size is reported as truncated; labels are range-checked.
import * as path from 'node:path';
import { FileFormatError } from '../errors';
import { NORMALIZATION, U8ArrayDataset, type Normalization, type Split } from './dataset';
import { findFile, missingFile, readBytes } from './read';

export type CifarVariant = 'cifar10' | 'cifar100';

export const CIFAR_PIXELS = 3 * 32 * 32;

interface Layout {
  folder: string;
  /** Label bytes per record; the last one is the label used. */
  labelBytes: number;
  /** Classes of each label byte (coarse, fine for CIFAR-100). */
  labelClasses: number[];
  files: Record<Split, string[]>;
}

const LAYOUTS: Record<CifarVariant, Layout> = {
  cifar10: {
    folder: 'cifar-10-batches-bin',
    labelBytes: 1,
    labelClasses: [10],
    files: { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ['test_batch.bin'] },
  },
  cifar100: {
    folder: 'cifar-100-binary',
    labelBytes: 2,
    labelClasses: [20, 100],
    files: { train: ['train.bin'], test: ['test.bin'] },
  },
};

interface Records {
  /** (N, 3, 32, 32) */
  pixels: Uint8Array;
  labels: Int32Array;
}

/** Splits one CIFAR binary file's bytes into pixels and (fine) labels; `file` names it in errors. */
export function parseCifar(bytes: Uint8Array, file: string, variant: CifarVariant): Records {
  const { labelBytes, labelClasses } = LAYOUTS[variant];
  const record = labelBytes + CIFAR_PIXELS;
  if (bytes.length === 0) throw new FileFormatError(file, `empty file (expected records of ${record} bytes)`);
  if (bytes.length % record !== 0) {
    throw new FileFormatError(file, `truncated: ${bytes.length} bytes is not a multiple of the ${record}-byte `
      + `${variant} record (${Math.floor(bytes.length / record)} whole records and ${bytes.length % record} bytes left)`);
  }
  const n = bytes.length / record;
  const pixels = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Int32Array(n);
  const names = labelBytes === 2 ? ['coarse label', 'fine label'] : ['label'];
  for (let r = 0; r < n; r++) {
    const at = r * record;
    for (let k = 0; k < labelBytes; k++) {
      const v = bytes[at + k];
      if (v >= labelClasses[k]) {
        throw new FileFormatError(file, `${names[k]} ${v} of record ${r} (byte offset ${at + k}) is out of range `
          + `for ${labelClasses[k]} classes`);
      }
    }
    labels[r] = bytes[at + labelBytes - 1];
    pixels.set(bytes.subarray(at + labelBytes, at + record), r * CIFAR_PIXELS);
  }
  return { pixels, labels };
}

/** The paths of a split's files: under the tarball's folder when it exists, else directly in `dir`. */
export function cifarFiles(dir: string, variant: CifarVariant, split: Split): string[] {
  const { folder, files } = LAYOUTS[variant];
  const nested = path.join(dir, folder);
  if (findFile(nested, [files[split][0]]) !== undefined) return files[split].map((f) => path.join(nested, f));
  if (findFile(dir, [files[split][0]]) !== undefined) return files[split].map((f) => path.join(dir, f));
  throw missingFile(dir, `${variant} ${split}`, [path.join(folder, files[split][0]), files[split][0]]);
}

/** Loads a split of CIFAR-10 or CIFAR-100 (fine labels) from `dir`. */
export function loadCifarDataset(
  dir: string,
  variant: CifarVariant,
  split: Split,
  options: { normalization?: Normalization } = {},
): U8ArrayDataset {
  const files = cifarFiles(dir, variant, split);
  const parts = files.map((f) => parseCifar(readBytes(f), f, variant));
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  let pixels: Uint8Array;
  let labels: Int32Array;
  if (parts.length === 1) {
    ({ pixels, labels } = parts[0]);
  } else {
    pixels = new Uint8Array(n * CIFAR_PIXELS);
    labels = new Int32Array(n);
    let at = 0;
    for (const p of parts) {
      pixels.set(p.pixels, at * CIFAR_PIXELS);
      labels.set(p.labels, at);
      at += p.labels.length;
    }
  }
  return new U8ArrayDataset({
    name: `${variant}-${split}`,
    source: files.join(', '),
    numClasses: LAYOUTS[variant].labelClasses[LAYOUTS[variant].labelClasses.length - 1],
    channels: 3,
    height: 32,
    width: 32,
    pixels,
    labels,
    normalization: options.normalization ?? NORMALIZATION[variant],
  });
}
