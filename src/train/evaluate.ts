// Evaluation: mean cross-entropy, top-1 and top-5 accuracy (in %) over a loader, in eval mode
// without recording gradients; the model's mode is restored afterwards. The counts and the loss
// sum accumulate on the device (classification_counts, accumulate_loss) and are read once at the
// end, not per batch. A row with any non-finite logit (NaN, +-inf) counts as wrong for top-1 and
// top-5 and is reported in `nonFinite`. With `predictions` (ReaL scoring) each batch's logits are
// also read to the host for their argmax. Any BatchLoader works: in-memory or image-folder.
import { noGrad } from '../autograd/tape';
import { crossEntropy } from '../autograd/ops/loss';
import type { BatchLoader } from '../data/batches';
import { keep, scope } from '../memory';
import { kernels } from '../native/addon';
import type { Module } from '../nn/module';
import { ShapeError } from '../errors';
import { Tensor } from '../tensor';
import type { TrainConfig } from './config';
import { withPrecision } from './precision';

export interface EvalResult {
  loss: number;
  top1: number;
  top5: number;
  samples: number;
  /** Rows whose logits held a NaN or an infinity (counted as wrong). */
  nonFinite: number;
}

/** ", N rows with non-finite logits (counted wrong)" when there were any, else "". */
export function nonFiniteNote(result: EvalResult): string {
  return result.nonFinite > 0 ? `, ${result.nonFinite} rows with non-finite logits (counted wrong)` : '';
}

export interface EvaluateOptions {
  /** Run the forward under this precision's autocast (the run's --precision); default fp32. */
  precision?: TrainConfig['precision'];
  /** Filled with each sample's top-1 class at its dataset index (-1 for non-finite rows), e.g. for ReaL. */
  predictions?: Int32Array;
}

/** Top-1 class of each row of (n, classes) logits read to the host (-1 for a row with a NaN). */
function writePredictions(out: Int32Array, logits: Tensor, indices: Int32Array): void {
  const values = logits.toArray();
  const k = logits.shape[1];
  for (let r = 0; r < indices.length; r++) {
    let best = -1;
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = values[r * k + c];
      if (Number.isNaN(v)) {
        best = -1;
        break;
      }
      if (v > max || best < 0) {
        max = v;
        best = c;
      }
    }
    out[indices[r]] = best;
  }
}

export function evaluate(model: Module, loader: BatchLoader, options: EvaluateOptions = {}): EvalResult {
  const wasTraining = model.training;
  model.eval();
  let samples = 0;
  let counts: Tensor | null = null; // (top-1, top-5, non-finite) int32, on the model's device
  let lossSum: Tensor | null = null; // float32 scalar
  let firstBad: Tensor | null = null; // int32: the first batch with a non-finite loss (unused)
  let batchIndex = 0;
  try {
    noGrad(() => {
      for (const batch of loader.iterate(0)) {
        scope(() => {
          const logits = withPrecision(options.precision ?? 'fp32', () => model.call(batch.images));
          if (logits.ndim !== 2) throw new ShapeError(`evaluate: expected logits (N, classes), got shape [${logits.shape.join(', ')}]`);
          if (counts === null) {
            counts = keep(Tensor.zeros([3], { dtype: 'int32', device: logits.device }));
            lossSum = keep(Tensor.zeros([], { device: logits.device }));
            firstBad = keep(Tensor.full([], -1, { dtype: 'int32', device: logits.device }));
          }
          const n = batch.labels.shape[0];
          const loss = crossEntropy(logits, batch.labels, 'sum');
          kernels.accumulate_loss(lossSum!.buffer, firstBad!.buffer, loss.buffer, batchIndex++);
          const rows = logits.contiguous();
          kernels.classification_counts(counts.buffer, rows.buffer, batch.labels.bufferFor('evaluate'), rows.dtype, n, rows.shape[1], 5);
          if (options.predictions) writePredictions(options.predictions, rows, batch.indices);
          samples += n;
          batch.dispose();
        });
      }
    });
    // The only device reads of the evaluation: the three counts and the loss sum.
    const c = counts as Tensor | null;
    const [top1, top5, nonFinite] = c === null ? [0, 0, 0] : Array.from(c.toArray());
    const loss = lossSum === null ? NaN : (lossSum as Tensor).item();
    return { loss: loss / samples, top1: (100 * top1) / samples, top5: (100 * top5) / samples, samples, nonFinite };
  } finally {
    model.train(wasTraining);
    for (const t of [counts as Tensor | null, lossSum as Tensor | null, firstBad as Tensor | null]) t?.dispose();
  }
}
