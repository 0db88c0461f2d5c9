// The learning-rate schedule of a run from its config: cosine with linear warmup (--warmup-steps
// or --warmup-epochs), step decay (every --step-size steps, or epochs with --schedule-every
// epoch, times --gamma), or constant; evaluated every optimizer step or held per epoch.
import { constant, stepDecay, warmupCosine, type Schedule } from '../optim/schedule';
import type { TrainConfig } from './config';

export function makeSchedule(config: TrainConfig, stepsPerEpoch: number, totalSteps: number): Schedule {
  const perEpoch = config.scheduleEvery === 'epoch';
  const timing = perEpoch ? { per: 'epoch' as const, stepsPerEpoch } : { per: 'step' as const, stepsPerEpoch };
  const baseLr = config.lr;
  switch (config.schedule) {
    case 'cosine': {
      const total = perEpoch ? Math.ceil(totalSteps / stepsPerEpoch) : totalSteps;
      // --warmup-steps wins over --warmup-epochs (fractions of an epoch are rounded to steps).
      const warmup = perEpoch
        ? config.warmupSteps !== null ? Math.ceil(config.warmupSteps / stepsPerEpoch) : Math.round(config.warmupEpochs ?? 0)
        : config.warmupSteps ?? Math.round((config.warmupEpochs ?? 0) * stepsPerEpoch);
      return warmupCosine({ baseLr, warmupSteps: Math.min(warmup, total), totalSteps: total, minLr: config.minLr, ...timing });
    }
    case 'step':
      return stepDecay({ baseLr, stepSize: config.stepSize, gamma: config.gamma, ...timing });
    case 'constant':
      return constant({ baseLr, ...timing });
  }
}
