// The image-folder loader: batches of an ImageFolderSplit (image-folder.ts) decoded by the worker
// pool (image/pool.ts) and uploaded as {images (B, 3, S, S) float32, labels (B) int32} like the
// in-memory DataLoader: the HWC uint8 batch is copied to the device once and normalized there with
// ImageNet's mean/std (normalize_u8, straight into channels-last when asked).
//
// Determinism: epoch e's order is a permutation from (seed, e) (no shuffle: file order), the seed
// of the sample at position p of epoch e is mixSeed(seed, e, 1, p), and Mixup's lambda of batch k
// comes from (seed, e, k): nothing depends on the worker count or on timing, so the batches are
// the same bytes for any --workers, and iterate(e, k) resumes at batch k exactly.
//
// Memory: the ring of Q = 2 + ceil(workers / 2) slots of B * S * S * 3 bytes (e.g. B 256, S 224,
// 16 workers: 10 slots, 385 MB), the plan (8 bytes per image), the packed file list and one batch
// on the device, plus one staging batch on the host (the addon reads no SharedArrayBuffer views, so
// each batch is copied out of the ring once before the device copy); nothing grows with the
// dataset beyond the per-image lists.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Device } from '../device';
import { ArgumentError } from '../errors';
import { kernels } from '../native/addon';
import { Generator } from '../random';
import { Tensor, type MemoryFormat } from '../tensor';
import type { PipelineLoader, PipelineStats } from './batches';
import type { ImageFolderSplit } from './image-folder';
import type { Batch } from './loader';
import { mixImages, mixupLambda, mixupTargets } from './mixup';
import { DecodePool, defaultSlots } from './image/pool';
import type { BadImageMessage } from './image/shared';
import { mixSeed } from './seeds';
import type { ImageDims } from './transforms';

/** torchvision's ImageNet statistics (timm's IMAGENET_DEFAULT_MEAN / STD). */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export interface ImageLoaderOptions {
  split: ImageFolderSplit;
  batchSize: number;
  /** Training samples (random crops, augmentation, Mixup) or evaluation ones (resize + centre crop). */
  train: boolean;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  device?: Device;
  memoryFormat?: MemoryFormat;
  /** Decode workers (default: the core count). */
  workers?: number;
  /** Ring slots (default 2 + ceil(workers / 2)). */
  slots?: number;
  aug?: 'basic' | 'strong';
  imageSize?: number;
  cropFraction?: number;
  maxPixels?: number;
  skipBadImages?: boolean;
  /** Mixup alpha (0: off; training loaders only). */
  mixup?: number;
  /** Class count of the soft targets (default the split's). */
  numClasses?: number;
  /** The decoder module (tests); default image-decode's src/data/image/sample. */
  decoder?: string;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

export class ImageFolderLoader implements PipelineLoader {
  readonly split: ImageFolderSplit;
  readonly batchSize: number;
  readonly length: number;
  readonly sampleDims: ImageDims;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly workers: number;
  readonly slots: number;
  readonly mixup: number;
  readonly numClasses: number;
  private readonly options: ImageLoaderOptions;
  private readonly memoryFormat: MemoryFormat;
  private readonly device: Device;
  private pool: DecodePool | null = null;
  private staging: Uint8Array | null = null;
  private badLog: string | null = null;
  private readonly badSeen = new Set<string>();
  private badThisEpoch = 0;
  /** Bad files met so far (all, also without a log file). */
  readonly badImages: BadImageMessage[] = [];
  private upcoming = 0;
  private readonly mean = Float32Array.from(IMAGENET_NORMALIZATION.mean);
  private readonly std = Float32Array.from(IMAGENET_NORMALIZATION.std);

  constructor(o: ImageLoaderOptions) {
    const { split, batchSize } = o;
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new ArgumentError(`image loader: batchSize must be a positive integer, got ${batchSize}`);
    const size = o.imageSize ?? 224;
    if (!Number.isSafeInteger(size) || size < 1) throw new ArgumentError(`--image-size: expected a positive integer, got ${size}`);
    this.split = split;
    this.batchSize = batchSize;
    this.shuffle = o.shuffle ?? o.train;
    this.seed = o.seed ?? 0;
    this.workers = o.workers ?? defaultWorkers();
    this.slots = o.slots ?? defaultSlots(this.workers);
    this.mixup = o.train ? o.mixup ?? 0 : 0;
    this.numClasses = o.numClasses ?? split.numClasses;
    this.length = o.dropLast ? Math.floor(split.files.length / batchSize) : Math.ceil(split.files.length / batchSize);
    this.sampleDims = { channels: 3, height: size, width: size };
    this.memoryFormat = o.memoryFormat ?? 'contiguous';
    this.device = o.device ?? 'cpu';
    this.options = o;
  }

  /** Bytes of the decode ring: the bound on decoded pixels held on the host. */
  get ringBytes(): number {
    return this.slots * this.batchSize * this.sampleDims.height * this.sampleDims.width * 3;
  }

  epochOrder(epoch: number): Int32Array {
    const n = this.split.files.length;
    return this.shuffle ? new Generator(mixSeed(this.seed, epoch, 0)).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  }

  batchIndices(epoch: number, k: number): Int32Array {
    return this.epochOrder(epoch).slice(k * this.batchSize, Math.min((k + 1) * this.batchSize, this.split.files.length));
  }

  get nextEpoch(): number {
    return this.upcoming;
  }

  [Symbol.iterator](): IterableIterator<Batch> {
    return this.iterate(this.upcoming);
  }

  /** Batches of `epoch` from `startBatch` on; decoding starts now. */
  iterate(epoch = 0, startBatch = 0): IterableIterator<Batch> {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ArgumentError(`image loader: epoch must be a non-negative integer, got ${epoch}`);
    if (!Number.isSafeInteger(startBatch) || startBatch < 0 || startBatch > this.length) {
      throw new ArgumentError(`image loader: batch ${startBatch} is outside [0, ${this.length}] (${this.length} batches per epoch)`);
    }
    this.upcoming = epoch + 1;
    const order = this.epochOrder(epoch);
    const from = startBatch * this.batchSize;
    const to = Math.min(this.length * this.batchSize, order.length);
    const files = order.slice(from, Math.max(from, to));
    const seeds = Uint32Array.from(files, (_, i) => mixSeed(this.seed, epoch, 1, from + i));
    const pool = this.getPool();
    const id = pool.startRun(epoch, files, seeds);
    return this.run(pool, id, epoch, startBatch, order);
  }

  private *run(pool: DecodePool, id: number, epoch: number, startBatch: number, order: Int32Array): IterableIterator<Batch> {
    try {
      for (let k = startBatch; k < this.length; k++) {
        const indices = order.slice(k * this.batchSize, Math.min((k + 1) * this.batchSize, order.length));
        const bytes = pool.take(k - startBatch, indices.length, id);
        let batch: Batch;
        try {
          batch = this.upload(bytes, indices, epoch, k);
        } finally {
          pool.release(k - startBatch);
        }
        this.logBad(pool.takeBadImages());
        yield batch;
      }
    } finally {
      pool.endRun(id);
      this.logBad(pool.takeBadImages());
    }
  }

  private upload(bytes: Uint8Array, indices: Int32Array, epoch: number, k: number): Batch {
    const b = indices.length;
    const { height, width } = this.sampleDims;
    const channelsLast = this.memoryFormat === 'channelsLast';
    const labelsHost = Int32Array.from(indices, (i) => this.split.labels[i]);
    const created: Tensor[] = [];
    try {
      const raw = Tensor.empty([b, height, width, 3], { dtype: 'uint8', device: this.device });
      created.push(raw);
      // The addon takes no views of SharedArrayBuffers: one host copy into a reused array first.
      if (this.staging === null || this.staging.length < bytes.length) this.staging = new Uint8Array(this.batchSize * height * width * 3);
      this.staging.set(bytes);
      raw.copyFromHost(this.staging.subarray(0, bytes.length));
      let images = Tensor.empty([b, 3, height, width], { device: this.device, memoryFormat: this.memoryFormat });
      created.push(images);
      kernels.normalize_u8(images.buffer, raw.buffer, images.dtype, b, 3, height * width, true, channelsLast, this.mean, this.std);
      raw.dispose();
      let targets: Tensor | undefined;
      if (this.mixup > 0) {
        const lam = mixupLambda(this.mixup, this.seed, epoch, k);
        const mixed = mixImages(images, lam);
        images.dispose();
        images = mixed;
        created.push(images);
        targets = Tensor.fromArray(mixupTargets(labelsHost, this.numClasses, lam), [b, this.numClasses], { device: this.device });
        created.push(targets);
      }
      const labels = Tensor.fromArray(labelsHost, [b], { dtype: 'int32', device: this.device });
      const out = images;
      return {
        images: out, labels, indices, epoch, batch: k, ...(targets ? { targets } : {}),
        dispose: () => {
          out.dispose();
          labels.dispose();
          targets?.dispose();
        },
      } as Batch;
    } catch (e) {
      for (const t of created) if (!t.disposed) t.dispose();
      throw e;
    }
  }

  private getPool(): DecodePool {
    if (this.pool === null) {
      const o = this.options;
      const { height, width } = this.sampleDims;
      this.pool = new DecodePool({
        files: this.split.files, labels: this.split.labels, numClasses: this.split.numClasses, workers: this.workers, slots: this.slots,
        batchSize: this.batchSize, sampleBytes: height * width * 3, skipBad: !!o.skipBadImages, decoder: o.decoder,
        spec: { split: o.train ? 'train' : 'eval', aug: o.aug ?? 'basic', size: height, cropFraction: o.cropFraction ?? 0.875, maxPixels: o.maxPixels ?? 100e6 },
      });
    }
    return this.pool;
  }

  /** Appends bad files to runs/<name>/bad-images.jsonl (once per file) from now on. */
  logBadImagesTo(file: string): void {
    this.badLog = file;
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() !== '') this.badSeen.add((JSON.parse(line) as { file: string }).file);
      }
    }
  }

  private logBad(list: BadImageMessage[]): void {
    for (const m of list) {
      this.badThisEpoch++;
      this.badImages.push(m);
      if (this.badSeen.has(m.file)) continue;
      this.badSeen.add(m.file);
      if (this.badLog) appendFileSync(this.badLog, JSON.stringify({ file: m.file, reason: m.reason, epoch: m.epoch + 1 }) + '\n');
    }
  }

  /** The pipeline's statistics since the previous call (the epoch line's data_stall_s, ...). */
  takeStats(): PipelineStats {
    const s = this.pool?.takeStats() ?? { stallSeconds: 0, batches: 0, decoded: 0, busySeconds: 0, replaced: 0 };
    const bad = this.badThisEpoch;
    this.badThisEpoch = 0;
    return {
      data_stall_s: s.stallSeconds,
      data_stall_ms_per_step: s.batches > 0 ? (1000 * s.stallSeconds) / s.batches : 0,
      decode_images_per_s: s.busySeconds > 0 ? (s.decoded * this.workers) / s.busySeconds : 0,
      bad_images: bad,
    };
  }

  /** The decode pool's current run (null before the first iteration): see DecodePool.progress. */
  progress(): { decoded: number; released: number } | null {
    return this.pool?.progress() ?? null;
  }

  /** Stops the decode threads; a later iteration starts a new pool. */
  close(): void {
    this.pool?.close();
    this.pool = null;
  }
}
