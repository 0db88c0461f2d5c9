// --precision and --channels-last for the training run: the loss function every forward of the
// run goes through (training steps, the probe, evaluation), autocast to bfloat16 / float16 around
// the model's forward as torch.autocast is used, and the loss scaler for fp16.
import { autocast, type AutocastDType } from '../autocast';
import { crossEntropy } from '../autograd/ops/loss';
import type { Module } from '../nn/module';
import { GradScaler } from '../optim/grad-scaler';
import type { Tensor } from '../tensor';
import type { TrainConfig } from './config';

const AUTOCAST: Record<TrainConfig['precision'], AutocastDType | null> = { fp32: null, bf16: 'bfloat16', fp16: 'float16' };

/** Runs fn under the autocast of `precision` (fp32: as it is). */
export function withPrecision<T>(precision: TrainConfig['precision'], fn: () => T): T {
  const dtype = AUTOCAST[precision];
  return dtype === null ? fn() : autocast({ dtype }, fn);
}

/**
 * The run's loss of a batch: forward under autocast, cross-entropy in float32 (mean over the
 * batch), against the batch's soft targets when it has them (Mixup), else its labels.
 */
export function runLoss(config: Pick<TrainConfig, 'precision'>): (model: Module, batch: { images: Tensor; labels: Tensor; targets?: Tensor }) => Tensor {
  return (model, batch) => withPrecision(config.precision, () => crossEntropy(model.call(batch.images), batch.targets ?? batch.labels));
}

/** A GradScaler for fp16 runs (torch.amp.GradScaler's defaults); a disabled one otherwise. */
export function makeScaler(config: Pick<TrainConfig, 'precision'>): GradScaler {
  return new GradScaler({ enabled: config.precision === 'fp16' });
}
