// The common dataset interface and the in-memory datasets behind every loader in src/data/.
// A dataset is a fixed list of (image, label) samples of one shape (C, H, W). The loader builds a
// batch by gathering samples into one contiguous host array (`getImages(indices, out)`), copying
// it to the device once and, for uint8 pixels ('u8'), normalizing there with the per-channel
// mean/std below (kernel normalize_u8). Float datasets ('f32', the tensors dataset for exact
// cross-framework runs) are copied as they are. Every dataset here holds its samples in memory:
// MNIST-sized and CIFAR-sized sets are at most a few hundred MB.
import { ArgumentError } from '../errors';

export type Split = 'train' | 'test';

/** Per-channel statistics of pixels scaled to [0, 1]: x_norm = (x / 255 - mean[c]) / std[c]. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** The usual statistics (torchvision examples, timm) of the datasets layerwise reads. */
export const NORMALIZATION = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
} as const satisfies Record<string, Normalization>;

interface DatasetInfo {
  readonly name: string;
  /** The file(s) the split was read from, for messages (undefined for generated data). */
  readonly source?: string;
  readonly numClasses: number;
  /** Number of samples. */
  readonly size: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Every sample's class index, in [0, numClasses). */
  readonly labels: Int32Array;
  /** Labels of the samples `indices` into `out` (a new array when absent); returns the array. */
  getLabels(indices: ArrayLike<number>, out?: Int32Array): Int32Array;
}

/** uint8 pixels (0..255), normalized on the device with `normalization`. */
export interface U8Dataset extends DatasetInfo {
  readonly kind: 'u8';
  readonly normalization: Normalization;
  /** Pixels of `indices` as (B, C, H, W) into `out` (at least B*C*H*W long; new when absent). */
  getImages(indices: ArrayLike<number>, out?: Uint8Array): Uint8Array;
}

/** float32 pixels used as they are (no normalization). */
export interface F32Dataset extends DatasetInfo {
  readonly kind: 'f32';
  getImages(indices: ArrayLike<number>, out?: Float32Array): Float32Array;
}

export type Dataset = U8Dataset | F32Dataset;

export interface ArrayDatasetInit<P> {
  name: string;
  /** The file(s) the split was read from (DatasetInfo.source). */
  source?: string;
  numClasses: number;
  channels: number;
  height: number;
  width: number;
  /** (N, C, H, W) row-major. */
  pixels: P;
  /** (N) class indices. */
  labels: Int32Array;
}

type Pixels = Uint8Array | Float32Array;

/** Shared storage and gathering of the two in-memory dataset kinds. */
abstract class ArrayDatasetBase<P extends Pixels> implements DatasetInfo {
  readonly name: string;
  readonly source?: string;
  readonly numClasses: number;
  readonly size: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly labels: Int32Array;
  /** (N, C, H, W) */
  readonly pixels: P;

  constructor(init: ArrayDatasetInit<P>) {
    const { name, numClasses, channels, height, width, pixels, labels } = init;
    for (const [key, v] of Object.entries({ numClasses, channels, height, width })) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new ArgumentError(`dataset ${name}: ${key} must be a positive integer, got ${v}`);
    }
    const sample = channels * height * width;
    if (pixels.length !== labels.length * sample) {
      throw new ArgumentError(`dataset ${name}: ${pixels.length} pixel values for ${labels.length} labels of shape `
        + `[${channels}, ${height}, ${width}] (expected ${labels.length * sample})`);
    }
    const bad = labels.findIndex((v) => v < 0 || v >= numClasses);
    if (bad >= 0) throw new ArgumentError(`dataset ${name}: label ${labels[bad]} at index ${bad} is outside [0, ${numClasses})`);
    this.name = name;
    if (init.source !== undefined) this.source = init.source;
    this.numClasses = numClasses;
    this.size = labels.length;
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.pixels = pixels;
    this.labels = labels;
  }

  protected gather(indices: ArrayLike<number>, out: P): P {
    const sample = this.channels * this.height * this.width;
    const need = indices.length * sample;
    if (out.length < need) {
      throw new ArgumentError(`dataset ${this.name}: output holds ${out.length} values, ${indices.length} samples need ${need}`);
    }
    for (let b = 0; b < indices.length; b++) {
      const i = this.checkIndex(indices[b]);
      out.set(this.pixels.subarray(i * sample, (i + 1) * sample), b * sample);
    }
    return out;
  }

  getLabels(indices: ArrayLike<number>, out: Int32Array = new Int32Array(indices.length)): Int32Array {
    if (out.length < indices.length) {
      throw new ArgumentError(`dataset ${this.name}: label output holds ${out.length} values for ${indices.length} samples`);
    }
    for (let b = 0; b < indices.length; b++) out[b] = this.labels[this.checkIndex(indices[b])];
    return out;
  }

  private checkIndex(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new ArgumentError(`dataset ${this.name}: sample index ${i} is outside [0, ${this.size})`);
    }
    return i;
  }
}

/** An in-memory dataset of uint8 pixels (IDX, CIFAR, synthetic). */
export class U8ArrayDataset extends ArrayDatasetBase<Uint8Array> implements U8Dataset {
  readonly kind = 'u8' as const;
  readonly normalization: Normalization;

  constructor(init: ArrayDatasetInit<Uint8Array> & { normalization: Normalization }) {
    super(init);
    const { mean, std } = init.normalization;
    if (mean.length !== init.channels || std.length !== init.channels) {
      throw new ArgumentError(`dataset ${init.name}: normalization has ${mean.length} means and ${std.length} stds `
        + `for ${init.channels} channels`);
    }
    if (!std.every((s) => s > 0)) throw new ArgumentError(`dataset ${init.name}: std must be positive, got [${std.join(', ')}]`);
    this.normalization = { mean: [...mean], std: [...std] };
  }

  getImages(indices: ArrayLike<number>, out?: Uint8Array): Uint8Array {
    return this.gather(indices, out ?? new Uint8Array(indices.length * this.channels * this.height * this.width));
  }
}

/** An in-memory dataset of float32 pixels (the tensors dataset). */
export class F32ArrayDataset extends ArrayDatasetBase<Float32Array> implements F32Dataset {
  readonly kind = 'f32' as const;

  getImages(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    return this.gather(indices, out ?? new Float32Array(indices.length * this.channels * this.height * this.width));
  }
}

/** Per-class sample counts (for checks and reports). */
export function labelHistogram(dataset: Pick<Dataset, 'labels' | 'numClasses'>): number[] {
  const counts = new Array<number>(dataset.numClasses).fill(0);
  for (const l of dataset.labels) counts[l]++;
  return counts;
}
