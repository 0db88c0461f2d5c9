// DataLoader: turns a Dataset into batches {images (B, C, H, W) float32, labels (B) int32} on a
// device. A uint8 batch is gathered (and augmented) into one host array, copied to the device once
// and normalized there by normalize_u8; a float32 batch is copied as it is.
//
// Order and resume: epoch e's order is a permutation drawn by a Generator seeded from (seed, e),
// and batch k's augmentation by one seeded from (seed, e, k), so any epoch's order (epochOrder)
// and any batch can be recomputed on its own: iterate(e, k) resumes at batch k of epoch e and
// yields exactly the batches an uninterrupted epoch would have from k on. A checkpoint only needs
// (seed, epoch, batch).
//
// Overlap: JS is single-threaded, so "prefetching" means ordering the work. Each next() uploads
// the batch that was prepared on the host the previous time (the copy and normalization are
// queued on the device), then prepares the following batch on the host (gather + transform into
// the other of two reused arrays) before returning. On CUDA, where the training step's kernels
// run asynchronously, that host work overlaps the device still computing the previous step and
// copying this batch; on the CPU backend it simply runs in sequence.
//
// Ownership: the batch's tensors belong to the caller. They are created inside next(), so a
// scope() open around the call (or the training step's) collects them; otherwise call
// batch.dispose(). The loader itself holds no tensors.
import type { Device } from '../device';
import { ArgumentError } from '../errors';
import { kernels } from '../native/addon';
import { Generator } from '../random';
import { Tensor, convertRaw, type MemoryFormat } from '../tensor';
import type { Dataset, Normalization } from './dataset';
import { mixSeed } from './seeds';
import { applyTransform, parseTransform, transformedDims, type ImageDims, type TrainTransform } from './transforms';

export interface DataLoaderOptions {
  dataset: Dataset;
  batchSize: number;
  /** Draw a new order each epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Seed of the orders and augmentations (default 0). */
  seed?: number;
  /** Leave out the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Host augmentation of uint8 batches, as a spec ('crop32-pad4,flip') or parsed (default none). */
  transform?: TrainTransform | string;
  device?: Device;
  /** Memory format of the image batches: 'channelsLast' normalizes straight into NHWC (default contiguous). */
  memoryFormat?: MemoryFormat;
  /** Overrides the dataset's statistics (uint8 datasets only). */
  normalization?: Normalization;
}

export interface Batch {
  /** (B, C, H, W) float32, normalized. */
  images: Tensor;
  /** (B) int32 class indices. */
  labels: Tensor;
  /** (B) the samples' dataset indices. */
  indices: Int32Array;
  epoch: number;
  /** This batch's position in its epoch. */
  batch: number;
  /** Disposes images and labels. */
  dispose(): void;
}

/** A batch prepared on the host, waiting to be copied to the device. */
interface HostBatch {
  indices: Int32Array;
  /** (B, C, H, W) in the loader's output shape; may be longer than B samples. */
  images: Uint8Array | Float32Array;
  labels: Int32Array;
}

/** Reused host arrays of one iteration: a gather array and, with a crop, its output. */
interface Slot {
  gathered: Uint8Array | Float32Array;
  cropped: Uint8Array | null;
}

export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly transform: TrainTransform;
  readonly device: Device;
  /** The batches' sample shape (after the transform). */
  readonly sampleDims: ImageDims;
  /** Batches per epoch. */
  readonly length: number;
  readonly memoryFormat: MemoryFormat;
  private readonly mean: Float32Array;
  private readonly std: Float32Array;
  private cachedOrder: { epoch: number; order: Int32Array } | null = null;
  private upcoming = 0;

  constructor(options: DataLoaderOptions) {
    const { dataset, batchSize, shuffle = false, seed = 0, dropLast = false, device = 'cpu' } = options;
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
      throw new ArgumentError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!Number.isSafeInteger(seed)) throw new ArgumentError(`DataLoader: seed must be an integer, got ${seed}`);
    const transform = typeof options.transform === 'string' ? parseTransform(options.transform) : options.transform ?? { ops: [] };
    if (dataset.kind === 'f32' && transform.ops.length > 0) {
      throw new ArgumentError(`DataLoader: dataset ${dataset.name} holds float32 images, which are used as they are: no transform`);
    }
    if (dataset.kind === 'f32' && options.normalization) {
      throw new ArgumentError(`DataLoader: dataset ${dataset.name} holds float32 images, which are not normalized`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    this.transform = transform;
    this.device = device;
    this.memoryFormat = options.memoryFormat ?? 'contiguous';
    this.sampleDims = transformedDims(transform, dataset);
    this.length = dropLast ? Math.floor(dataset.size / batchSize) : Math.ceil(dataset.size / batchSize);
    const norm = dataset.kind === 'u8' ? options.normalization ?? dataset.normalization : { mean: [], std: [] };
    if (dataset.kind === 'u8' && (norm.mean.length !== dataset.channels || norm.std.length !== dataset.channels)) {
      throw new ArgumentError(`DataLoader: normalization has ${norm.mean.length} means and ${norm.std.length} stds `
        + `for ${dataset.channels} channels`);
    }
    this.mean = Float32Array.from(norm.mean);
    this.std = Float32Array.from(norm.std);
  }

  /** The order of dataset indices in `epoch` (a permutation drawn from (seed, epoch) when shuffling). */
  epochOrder(epoch: number): Int32Array {
    checkCount('epoch', epoch);
    if (this.cachedOrder?.epoch !== epoch) {
      const n = this.dataset.size;
      const order = this.shuffle ? new Generator(mixSeed(this.seed, epoch, 0)).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
      this.cachedOrder = { epoch, order };
    }
    return this.cachedOrder.order.slice();
  }

  /** Dataset indices of batch k of `epoch`. */
  batchIndices(epoch: number, k: number): Int32Array {
    this.checkBatch(k, this.length - 1);
    const order = this.epochOrder(epoch);
    return order.slice(k * this.batchSize, Math.min((k + 1) * this.batchSize, order.length));
  }

  /** The epoch that the next for-of over the loader runs. */
  get nextEpoch(): number {
    return this.upcoming;
  }

  /** Runs the next epoch (0, then 1, ...), as iterating a PyTorch DataLoader again reshuffles. */
  [Symbol.iterator](): IterableIterator<Batch> {
    return this.iterate(this.upcoming);
  }

  /**
   * The batches of `epoch` from batch `startBatch` on (see the file comment on prefetching).
   * Arguments are checked now; a later for-of over the loader continues with epoch + 1.
   */
  iterate(epoch = 0, startBatch = 0): IterableIterator<Batch> {
    checkCount('epoch', epoch);
    this.checkBatch(startBatch, this.length);
    this.upcoming = epoch + 1;
    return this.run(epoch, startBatch);
  }

  private *run(epoch: number, startBatch: number): IterableIterator<Batch> {
    const order = this.epochOrder(epoch);
    const slots = [this.newSlot(), this.newSlot()];
    let next = startBatch < this.length ? this.prepare(order, epoch, startBatch, slots[0]) : null;
    for (let k = startBatch; k < this.length; k++) {
      const batch = this.upload(next!, epoch, k);
      next = k + 1 < this.length ? this.prepare(order, epoch, k + 1, slots[(k + 1 - startBatch) % 2]) : null;
      yield batch;
    }
  }

  /** Batch k of `epoch` on its own (no prefetch), identical to the one iterate() yields. */
  getBatch(epoch: number, k: number): Batch {
    this.checkBatch(k, this.length - 1);
    return this.upload(this.prepare(this.epochOrder(epoch), epoch, k, this.newSlot()), epoch, k);
  }

  private newSlot(): Slot {
    const { channels, height, width } = this.dataset;
    const n = this.batchSize * channels * height * width;
    const out = this.sampleDims;
    const hasCrop = this.transform.ops.some((o) => o.kind === 'crop');
    return {
      gathered: this.dataset.kind === 'u8' ? new Uint8Array(n) : new Float32Array(n),
      cropped: hasCrop ? new Uint8Array(this.batchSize * out.channels * out.height * out.width) : null,
    };
  }

  /** Host work of batch k: gather the samples (and augment them) into the slot's arrays. */
  private prepare(order: Int32Array, epoch: number, k: number, slot: Slot): HostBatch {
    const indices = order.slice(k * this.batchSize, Math.min((k + 1) * this.batchSize, order.length));
    const labels = this.dataset.getLabels(indices);
    if (this.dataset.kind === 'f32') {
      return { indices, labels, images: this.dataset.getImages(indices, slot.gathered as Float32Array) };
    }
    const gathered = this.dataset.getImages(indices, slot.gathered as Uint8Array);
    if (this.transform.ops.length === 0) return { indices, labels, images: gathered };
    const gen = new Generator(mixSeed(this.seed, epoch, 1, k));
    const { data } = applyTransform(this.transform, gathered, indices.length, this.dataset, gen, slot.cropped ?? undefined);
    return { indices, labels, images: data };
  }

  /** Device work of a batch: one copy of the pixels, normalization on the device, the labels. */
  private upload(host: HostBatch, epoch: number, k: number): Batch {
    const b = host.indices.length;
    const { channels, height, width } = this.sampleDims;
    const shape = [b, channels, height, width];
    const count = b * channels * height * width;
    const created: Tensor[] = [];
    try {
      const channelsLast = this.memoryFormat === 'channelsLast' && shape.length === 4;
      let images = Tensor.empty(shape, { device: this.device, memoryFormat: host.images instanceof Float32Array ? 'contiguous' : this.memoryFormat });
      created.push(images);
      if (host.images instanceof Float32Array) {
        images.copyFromHost(host.images.subarray(0, count));
        if (channelsLast) {
          images = convertRaw(images, 'float32', 'channelsLast');
          created.push(images);
          created[created.length - 2].dispose();
        }
      } else {
        const raw = Tensor.empty(shape, { dtype: 'uint8', device: this.device });
        created.push(raw);
        raw.copyFromHost(host.images.subarray(0, count));
        kernels.normalize_u8(images.buffer, raw.buffer, images.dtype, b, channels, height * width, false, channelsLast, this.mean, this.std);
        raw.dispose();
      }
      const labels = Tensor.fromArray(host.labels, [b], { dtype: 'int32', device: this.device });
      return {
        images, labels, indices: host.indices, epoch, batch: k,
        dispose: () => {
          images.dispose();
          labels.dispose();
        },
      };
    } catch (e) {
      for (const t of created) t.dispose();
      throw e;
    }
  }

  private checkBatch(k: number, max: number): void {
    if (!Number.isSafeInteger(k) || k < 0 || k > max) {
      throw new ArgumentError(`DataLoader: batch ${k} is outside [0, ${max}] (${this.length} batches per epoch)`);
    }
  }
}

function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new ArgumentError(`DataLoader: ${name} must be a non-negative integer, got ${v}`);
}
