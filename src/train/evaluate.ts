// Evaluation: mean cross-entropy, top-1 and top-5 accuracy (in %) over a loader, in eval mode
// without recording gradients; the model's mode is restored afterwards.
import { noGrad } from '../autograd/tape';
import { crossEntropy } from '../autograd/ops/loss';
import type { DataLoader } from '../data/loader';
import { scope } from '../memory';
import type { Module } from '../nn/module';

export interface EvalResult {
  loss: number;
  top1: number;
  top5: number;
  samples: number;
}

/** Counts rows whose label is the arg max (top-1) or among the k largest logits (top-k). */
export function topKCounts(logits: Float32Array, labels: Int32Array, classes: number, k: number): { top1: number; topk: number } {
  let top1 = 0;
  let topk = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const target = row[labels[r]];
    let greater = 0;
    for (let c = 0; c < classes; c++) if (row[c] > target || (row[c] === target && c < labels[r])) greater++;
    if (greater === 0) top1++;
    if (greater < k) topk++;
  }
  return { top1, topk };
}

export function evaluate(model: Module, loader: DataLoader): EvalResult {
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  let samples = 0;
  try {
    noGrad(() => {
      for (const batch of loader.iterate(0)) {
        scope(() => {
          const logits = model.call(batch.images);
          const n = batch.labels.shape[0];
          lossSum += crossEntropy(logits, batch.labels, 'sum').item();
          const counts = topKCounts(logits.toArray() as Float32Array, batch.labels.toArray() as Int32Array, logits.shape[1], 5);
          top1 += counts.top1;
          top5 += counts.topk;
          samples += n;
          batch.dispose();
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: lossSum / samples, top1: (100 * top1) / samples, top5: (100 * top5) / samples, samples };
}
