// The learning-rate schedule of a run from its config: cosine with linear warmup (--warmup-steps
// or --warmup-epochs), step decay (every --step-size steps, or epochs with --schedule-every
// epoch, times --gamma), or constant; evaluated every optimizer step or held per epoch.
import { constant, stepDecay, warmupCosine, type Schedule } from '../optim/schedule';
import type { TrainConfig } from './config';

/** The cosine schedule's warmup and length, in its units (steps, or epochs with --schedule-every epoch). */
function warmupLength(config: TrainConfig, stepsPerEpoch: number, totalSteps: number): { warmup: number; total: number; unit: string } {
  const perEpoch = config.scheduleEvery === 'epoch';
  const total = perEpoch ? Math.ceil(totalSteps / stepsPerEpoch) : totalSteps;
  // --warmup-steps wins over --warmup-epochs (fractions of an epoch are rounded to steps).
  const warmup = perEpoch
    ? config.warmupSteps !== null ? Math.ceil(config.warmupSteps / stepsPerEpoch) : Math.round(config.warmupEpochs ?? 0)
    : config.warmupSteps ?? Math.round((config.warmupEpochs ?? 0) * stepsPerEpoch);
  return { warmup, total, unit: perEpoch ? 'epochs' : 'steps' };
}

/**
 * Problems of the schedule that do not stop a run but make it not do what was asked: a warmup
 * as long as the run or longer (e.g. --max-steps below the warmup), which never leaves warmup.
 */
export function scheduleWarnings(config: TrainConfig, stepsPerEpoch: number, totalSteps: number): string[] {
  if (config.schedule !== 'cosine') return [];
  const { warmup, total, unit } = warmupLength(config, stepsPerEpoch, totalSteps);
  if (warmup === 0 || warmup < total) return [];
  const from = config.warmupSteps !== null ? `--warmup-steps ${config.warmupSteps}` : `--warmup-epochs ${config.warmupEpochs}`;
  const length = config.maxSteps !== null ? `--max-steps ${config.maxSteps}` : `--epochs ${config.epochs}`;
  return [`the warmup (${warmup} ${unit}, from ${from}) is as long as the run or longer (${total} ${unit}, from ${length}): `
    + 'the learning rate never leaves warmup and the cosine decay never starts; shorten the warmup or lengthen the run'];
}

export function makeSchedule(config: TrainConfig, stepsPerEpoch: number, totalSteps: number): Schedule {
  const perEpoch = config.scheduleEvery === 'epoch';
  const timing = perEpoch ? { per: 'epoch' as const, stepsPerEpoch } : { per: 'step' as const, stepsPerEpoch };
  const baseLr = config.lr;
  switch (config.schedule) {
    case 'cosine': {
      const { warmup, total } = warmupLength(config, stepsPerEpoch, totalSteps);
      return warmupCosine({ baseLr, warmupSteps: Math.min(warmup, total), totalSteps: total, minLr: config.minLr, ...timing });
    }
    case 'step':
      return stepDecay({ baseLr, stepSize: config.stepSize, gamma: config.gamma, ...timing });
    case 'constant':
      return constant({ baseLr, ...timing });
  }
}
