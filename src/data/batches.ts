// What the training loop, the probe and evaluation need of a loader, met by both kinds: the
// in-memory DataLoader (loader.ts) and the image-folder loader (image-loader.ts, decoding in worker
// threads). Both are synchronous iterables of device batches; iterate(epoch, k) resumes at batch k
// with exactly the batches an uninterrupted epoch has from k on.
import type { Tensor } from '../tensor';
import type { Batch } from './loader';
import type { ImageDims } from './transforms';

export interface BatchLoader {
  readonly batchSize: number;
  /** Batches per epoch. */
  readonly length: number;
  /** The batches' sample shape. */
  readonly sampleDims: ImageDims;
  /** Dataset indices of batch k of `epoch` (for per-image scoring such as ReaL). */
  batchIndices(epoch: number, k: number): Int32Array;
  iterate(epoch?: number, startBatch?: number): IterableIterator<Batch>;
}

/** A batch that may carry soft targets (Mixup): the loss then uses them instead of the labels. */
export type TargetBatch = Batch & { targets?: Tensor };

/** Pipeline statistics of the epoch, for its metrics line (image-folder loaders only). */
export interface PipelineStats {
  /** Seconds the training loop waited for batches. */
  data_stall_s: number;
  data_stall_ms_per_step: number;
  /** Decoding throughput of the pool: images per second of the workers together. */
  decode_images_per_s: number;
  /** Bad files met (and replaced) this epoch (--skip-bad-images). */
  bad_images: number;
}

/** A loader with a decode pool: statistics, bad-image log and threads to close. */
export interface PipelineLoader extends BatchLoader {
  takeStats(): PipelineStats;
  logBadImagesTo(file: string): void;
  close(): void;
}

export function isPipelineLoader(l: BatchLoader): l is PipelineLoader {
  return typeof (l as Partial<PipelineLoader>).takeStats === 'function';
}
