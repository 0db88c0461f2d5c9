// The data of a run on an image folder (--data imagenet:DIR / folder:DIR): the training loader
// (random crops, --aug, Mixup), the validation loader (resize + centre crop), and the extra
// evaluations: --eval-data (ImageNet-V2 layout, `v2_*` in the metrics) and --real-labels (ReaL
// top-1 on the validation split). Every loader decodes with its own pool of --workers threads.
import { isPipelineLoader, type BatchLoader, type PipelineStats } from '../data/batches';
import { scanEvalFolder, scanImageFolder, type ImageFolderSplit } from '../data/image-folder';
import { defaultWorkers, ImageFolderLoader, type ImageLoaderOptions } from '../data/image-loader';
import type { Module } from '../nn/module';
import { mixupAlpha, type TrainConfig } from './config';
import { evaluate, type EvalResult } from './evaluate';
import { loadRealLabels, realTop1, type RealLabels } from './real';

export interface ImageRunData {
  train: BatchLoader;
  test: BatchLoader;
  numClasses: number;
  /** Class names by index (into the run's config.json). */
  classes: string[];
  /** --eval-data's loader. */
  v2: BatchLoader | null;
  /** --real-labels, matched to the validation split. */
  real: RealLabels | null;
}

/** The loader options every split of a run shares (from the config). */
function common(config: TrainConfig, split: ImageFolderSplit, numClasses: number): Omit<ImageLoaderOptions, 'train' | 'batchSize'> {
  return {
    split, numClasses, device: config.device, memoryFormat: config.channelsLast ? 'channelsLast' : 'contiguous',
    workers: config.workers ?? defaultWorkers(), aug: config.aug, imageSize: config.imageSize, cropFraction: config.cropFraction,
    maxPixels: config.maxImagePixels, skipBadImages: config.skipBadImages, seed: config.seed,
  };
}

export function buildImageData(config: TrainConfig, dir: string): ImageRunData {
  const { train, val } = scanImageFolder(dir);
  const numClasses = config.numClasses ?? train.numClasses;
  const trainLoader = new ImageFolderLoader({
    ...common(config, train, numClasses), train: true, batchSize: config.batchSize, shuffle: config.shuffle ?? true, mixup: mixupAlpha(config),
  });
  const test = new ImageFolderLoader({ ...common(config, val, numClasses), train: false, batchSize: config.evalBatchSize, shuffle: false });
  const v2 = config.evalData === null ? null
    : new ImageFolderLoader({ ...common(config, scanEvalFolder(config.evalData, train.classes), numClasses), train: false, batchSize: config.evalBatchSize, shuffle: false });
  const real = config.realLabels === null ? null : loadRealLabels(config.realLabels, val.files, numClasses);
  return { train: trainLoader, test, numClasses, classes: train.classes, v2, real };
}

export interface ExtraEval {
  /** The validation result (with ReaL predictions collected when asked). */
  val: EvalResult;
  /** Fields for the epoch / summary / eval line: real_top1, v2_loss, v2_top1, v2_top5. */
  fields: Record<string, number>;
}

/** Evaluates the validation split, and ReaL and V2 when the run has them. */
export function evaluateAll(model: Module, data: { test: BatchLoader; v2?: BatchLoader | null; real?: RealLabels | null }, precision: TrainConfig['precision']): ExtraEval {
  const predictions = data.real ? new Int32Array(data.real.labels.length).fill(-1) : undefined;
  // The evaluation pools' threads are stopped after use (a loader restarts its pool when iterated
  // again), so only the training pool's workers live between evaluations.
  let val: EvalResult;
  try {
    val = evaluate(model, data.test, { precision, predictions });
  } finally {
    closeLoaders(data.test);
  }
  const fields: Record<string, number> = {};
  if (data.real && predictions) {
    const r = realTop1(predictions, data.real.labels);
    fields.real_top1 = r.top1;
    fields.real_images = r.counted;
  }
  if (data.v2) {
    let v: EvalResult;
    try {
      v = evaluate(model, data.v2, { precision });
    } finally {
      closeLoaders(data.v2);
    }
    fields.v2_loss = v.loss;
    fields.v2_top1 = v.top1;
    fields.v2_top5 = v.top5;
  }
  return { val, fields };
}

/** Stops the decode threads of every pipeline loader of a run. */
export function closeLoaders(...loaders: (BatchLoader | null | undefined)[]): void {
  for (const l of loaders) if (l && isPipelineLoader(l)) l.close();
}

/** The epoch message's tail on image folders: ReaL / V2 accuracy, data stall, bad images. */
export function pipelineNote(fields: Record<string, number>, stats: PipelineStats | null): string {
  const parts: string[] = [];
  if (fields.real_top1 !== undefined) parts.push(`ReaL top-1 ${fields.real_top1.toFixed(2)}%`);
  if (fields.v2_top1 !== undefined) parts.push(`--eval-data top-1 ${fields.v2_top1.toFixed(2)}%`);
  if (stats) {
    parts.push(`data stall ${stats.data_stall_s.toFixed(1)} s (${stats.data_stall_ms_per_step.toFixed(1)} ms/step), decode ${stats.decode_images_per_s.toFixed(0)} images/s`);
    if (stats.bad_images > 0) parts.push(`${stats.bad_images} bad images replaced`);
  }
  return parts.length > 0 ? `; ${parts.join(', ')}` : '';
}
