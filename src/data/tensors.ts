// The tensors dataset, for exact cross-framework runs: a safetensors file holding already
// preprocessed inputs, so that layerwise and PyTorch see bit-identical batches. Keys: `images`
// (F32, (N, C, H, W), used as they are: no normalization, no augmentation) and `labels` (I64 as
// torch writes them, or I32; (N)). Optional `test_images` / `test_labels` form the test split;
// without them the test split is the training tensors again (the dataset name says so).
// The number of classes is the metadata entry `num_classes` when present, else the largest label
// of the file plus one. Errors (FileFormatError naming the file) for a missing key, a wrong dtype
// or rank, counts that disagree, and labels out of range.
import { FileFormatError } from '../errors';
import { readSafetensors, toInt32Array, type TensorEntry } from '../io/safetensors';
import { F32ArrayDataset, type Split } from './dataset';

const KEYS: Record<Split, { images: string; labels: string }> = {
  train: { images: 'images', labels: 'labels' },
  test: { images: 'test_images', labels: 'test_labels' },
};

function imagesOf(file: string, entry: TensorEntry, key: string): { pixels: Float32Array; shape: number[] } {
  if (entry.dtype !== 'F32') throw new FileFormatError(file, `'${key}' has dtype ${entry.dtype}, expected F32`);
  if (entry.shape.length !== 4) {
    throw new FileFormatError(file, `'${key}' has shape [${entry.shape.join(', ')}] (rank ${entry.shape.length}), `
      + 'expected rank 4 (N, C, H, W)');
  }
  const data = entry.data;
  const pixels = data.byteOffset % 4 === 0
    ? new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4)
    : new Float32Array(data.slice().buffer);
  return { pixels, shape: entry.shape };
}

function labelsOf(file: string, entry: TensorEntry, key: string): Int32Array {
  if (entry.dtype !== 'I64' && entry.dtype !== 'I32') {
    throw new FileFormatError(file, `'${key}' has dtype ${entry.dtype}, expected I64 or I32`);
  }
  if (entry.shape.length !== 1) {
    throw new FileFormatError(file, `'${key}' has shape [${entry.shape.join(', ')}] (rank ${entry.shape.length}), `
      + 'expected rank 1 (N)');
  }
  try {
    return toInt32Array(entry, key);
  } catch (e) {
    throw new FileFormatError(file, (e as Error).message);
  }
}

/** Loads a split of a tensors dataset file (see the file comment for its keys). */
export function loadTensorsDataset(file: string, split: Split = 'train'): F32ArrayDataset {
  const { tensors, metadata } = readSafetensors(file);
  const get = (key: string): TensorEntry => {
    const entry = tensors.get(key);
    if (entry === undefined) {
      throw new FileFormatError(file, `missing tensor '${key}' (the file has: ${[...tensors.keys()].join(', ') || 'no tensors'})`);
    }
    return entry;
  };
  const reuse = split === 'test' && !tensors.has(KEYS.test.images) && !tensors.has(KEYS.test.labels);
  const keys = KEYS[reuse ? 'train' : split];
  const { pixels, shape } = imagesOf(file, get(keys.images), keys.images);
  const labels = labelsOf(file, get(keys.labels), keys.labels);
  if (labels.length !== shape[0]) {
    throw new FileFormatError(file, `'${keys.labels}' has ${labels.length} labels but '${keys.images}' has ${shape[0]} images`);
  }
  const numClasses = classesOf(file, metadata, [...Object.values(KEYS)]
    .filter((k) => tensors.has(k.labels))
    .map((k) => (k.labels === keys.labels ? labels : labelsOf(file, get(k.labels), k.labels))));
  const bad = labels.findIndex((v) => v < 0 || v >= numClasses);
  if (bad >= 0) throw new FileFormatError(file, `'${keys.labels}'[${bad}] = ${labels[bad]} is outside [0, ${numClasses})`);
  return new F32ArrayDataset({
    name: `tensors-${split}${reuse ? ' (the training tensors: the file has no test_images)' : ''}`,
    source: `${file} (${keys.images})`,
    numClasses,
    channels: shape[1],
    height: shape[2],
    width: shape[3],
    pixels,
    labels,
  });
}

function classesOf(file: string, metadata: Record<string, string>, labelSets: Int32Array[]): number {
  const declared = metadata.num_classes;
  if (declared !== undefined) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n <= 0) throw new FileFormatError(file, `metadata num_classes '${declared}' is not a positive integer`);
    return n;
  }
  let max = -1;
  for (const set of labelSets) for (const v of set) if (v > max) max = v;
  if (max < 0) throw new FileFormatError(file, 'no labels to infer the number of classes from (set metadata num_classes)');
  return max + 1;
}
