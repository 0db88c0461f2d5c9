// Learning-rate schedules (docs/method.md section 6): linear warmup then cosine, step decay, constant.
// A schedule is a pure function from the 0-based index of the optimizer step about to be taken to
// the lr of that step, plus apply(optimizer, step), which sets every group's
// lr = group.initialLr * schedule(step) / baseLr, so groups keep their lr ratios; the layer-wise
// eta multiplies on top inside the optimizer (lr_i = group lr * eta_i). Call apply before step().
//
// Evaluated every optimizer step by default. With `per: 'epoch'` the schedule's index is the epoch
// e = floor(step / stepsPerEpoch) and the value is held for the whole epoch (torch's habit of
// calling scheduler.step() once per epoch); warmupSteps, totalSteps and stepSize then count epochs.
//
// Closed forms, t = the schedule's index (optimizer step, or epoch):
//   warmupCosine, W = warmupSteps, T = totalSteps, P = max(W - 1, 0) (the peak):
//     t < P:        lr = baseLr * (t + 1) / W
//     P <= t < T-1: lr = minLr + (baseLr - minLr) * (1 + cos(pi * (t - P) / (T - 1 - P))) / 2
//     t >= T-1:     lr = minLr, held afterwards (baseLr when W = T: the warmup ends on the last step)
//   Warmup convention: the ramp from 0 has its W points at base/W, 2 base/W, ..., base, so the
//   first step already learns (lr 0 would waste it), the peak is step W-1, and the cosine reaches
//   minLr exactly on the last step T-1 (docs/method.md section 6). In PyTorch this is
//   SequentialLR([LinearLR(start_factor=1/W, end_factor=1, total_iters=W-1),
//   CosineAnnealingLR(T_max=T-W, eta_min=minLr)], milestones=[W-1]); W = 0 and W = 1 both mean no
//   warmup. (timm's CosineLRScheduler and Hugging Face's cosine-with-warmup use lr = baseLr*t/W, so
//   their step 0 has lr 0, and they reach minLr one step after the last.) With several groups,
//   minLr scales with each group's ratio, where torch's eta_min is the same absolute value for all.
//   stepDecay (torch StepLR): lr = baseLr * gamma^floor(t / stepSize).
//   constant: lr = baseLr.
import { ArgumentError } from '../errors';
import type { Optimizer } from './optimizer';

export interface ScheduleTiming {
  /** 'step' (default): evaluated every optimizer step. 'epoch': held for each epoch (see above). */
  per?: 'step' | 'epoch';
  /** Optimizer steps per epoch; required with per: 'epoch'. */
  stepsPerEpoch?: number;
}

export interface WarmupCosineOptions extends ScheduleTiming {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr?: number;
}

export interface StepDecayOptions extends ScheduleTiming {
  baseLr: number;
  stepSize: number;
  gamma: number;
}

export interface ConstantOptions extends ScheduleTiming {
  baseLr: number;
}

/** lr of optimizer step `step` (0-based), with the schedule's description and apply(). */
export interface Schedule {
  (step: number): number;
  readonly kind: 'warmupCosine' | 'stepDecay' | 'constant';
  /** The validated options with defaults filled in (JSON-able, e.g. for a checkpoint). */
  readonly options: Readonly<Required<ScheduleTiming>> & Readonly<Record<string, number | string>>;
  readonly baseLr: number;
  /** The closed form at the schedule's index t (an optimizer step, or an epoch per epoch). */
  at(t: number): number;
  /** Sets every group's lr = initialLr * schedule(step) / baseLr; returns schedule(step). */
  apply(optimizer: Optimizer, step: number): number;
}

/** Linear warmup to baseLr over warmupSteps, then cosine to minLr (default 0) at totalSteps - 1. */
export function warmupCosine(options: WarmupCosineOptions): Schedule {
  const op = 'warmupCosine';
  checkKeys(op, options, ['baseLr', 'warmupSteps', 'totalSteps', 'minLr']);
  const baseLr = checkBaseLr(op, options.baseLr);
  const total = checkInt(op, 'totalSteps', options.totalSteps, 1);
  const warmup = checkInt(op, 'warmupSteps', options.warmupSteps, 0);
  if (warmup > total) throw new ArgumentError(`${op}: warmupSteps (${warmup}) must be <= totalSteps (${total})`);
  const minLr = options.minLr ?? 0;
  if (!(minLr >= 0 && minLr <= baseLr)) throw new ArgumentError(`${op}: minLr must be in [0, baseLr = ${baseLr}], got ${minLr}`);
  const peak = Math.max(warmup - 1, 0);
  const at = (t: number): number => {
    if (t < peak) return (baseLr * (t + 1)) / warmup;
    if (t >= total - 1) return total - 1 === peak ? baseLr : minLr;
    return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos((Math.PI * (t - peak)) / (total - 1 - peak)));
  };
  return makeSchedule(op, options, { baseLr, warmupSteps: warmup, totalSteps: total, minLr }, at);
}

/** torch.optim.lr_scheduler.StepLR: baseLr * gamma^floor(t / stepSize). */
export function stepDecay(options: StepDecayOptions): Schedule {
  const op = 'stepDecay';
  checkKeys(op, options, ['baseLr', 'stepSize', 'gamma']);
  const baseLr = checkBaseLr(op, options.baseLr);
  const stepSize = checkInt(op, 'stepSize', options.stepSize, 1);
  const gamma = options.gamma;
  if (typeof gamma !== 'number' || !(gamma > 0) || !Number.isFinite(gamma)) {
    throw new ArgumentError(`${op}: gamma must be a finite number > 0, got ${String(gamma)}`);
  }
  return makeSchedule(op, options, { baseLr, stepSize, gamma }, (t) => baseLr * gamma ** Math.floor(t / stepSize));
}

/** The same lr at every step. */
export function constant(options: ConstantOptions): Schedule {
  const op = 'constant';
  checkKeys(op, options, ['baseLr']);
  const baseLr = checkBaseLr(op, options.baseLr);
  return makeSchedule(op, options, { baseLr }, () => baseLr);
}

function makeSchedule(
  kind: Schedule['kind'],
  timing: ScheduleTiming,
  values: { baseLr: number } & Record<string, number>,
  at: (t: number) => number,
): Schedule {
  const per = timing.per ?? 'step';
  if (per !== 'step' && per !== 'epoch') throw new ArgumentError(`${kind}: per must be 'step' or 'epoch', got ${String(per)}`);
  const stepsPerEpoch = per === 'epoch' || timing.stepsPerEpoch !== undefined ? checkInt(kind, 'stepsPerEpoch', timing.stepsPerEpoch, 1) : 1;
  const lr = (step: number): number => {
    if (!Number.isSafeInteger(step) || step < 0) throw new ArgumentError(`${kind}: step must be an integer >= 0, got ${step}`);
    return at(per === 'epoch' ? Math.floor(step / stepsPerEpoch) : step);
  };
  const apply = (optimizer: Optimizer, step: number): number => {
    const value = lr(step);
    const factor = value / values.baseLr;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr * factor;
    return value;
  };
  return Object.assign(lr, {
    kind,
    options: Object.freeze({ ...values, per, stepsPerEpoch }),
    baseLr: values.baseLr,
    at: (t: number): number => {
      if (!Number.isSafeInteger(t) || t < 0) throw new ArgumentError(`${kind}: t must be an integer >= 0, got ${t}`);
      return at(t);
    },
    apply,
  });
}

function checkKeys(op: string, options: object, own: readonly string[]): void {
  if (typeof options !== 'object' || options === null) throw new ArgumentError(`${op}: options must be an object`);
  const known = new Set([...own, 'per', 'stepsPerEpoch']);
  const unknown = Object.keys(options).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new ArgumentError(`${op}: unknown option ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
}

function checkBaseLr(op: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new ArgumentError(`${op}: baseLr must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

function checkInt(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ArgumentError(`${op}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}
