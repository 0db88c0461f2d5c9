// The training run behind `layerwise train`: data -> model -> init -> eta (probe or profile)
// -> optimizer and schedule -> steps with gradient accumulation -> evaluation each epoch ->
// checkpoints, metrics.jsonl, plots and a summary in runs/<name>/. --resume continues a run
// exactly (bit-identical on CPU): weights, optimizer state, BatchNorm statistics, the dropout
// stream and the data order are all restored from the checkpoint. On image folders the epoch line
// also carries the pipeline's data stall, decode rate and bad-image count, and ReaL / V2 accuracy.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { scale } from '../autograd/ops/elementwise';
import { LayerwiseError } from '../errors';
import { etaForModel, formatProfileTable, saveProfile, type EtaProfile } from '../layerwise/profile';
import { scope } from '../memory';
import { kernels } from '../native/addon';
import type { Module } from '../nn/module';
import { loadingFrom } from '../io/state-dict';
import { Tensor } from '../tensor';
import { buildOptimizer } from '../optim/build';
import { makeSchedule, scheduleWarnings } from './schedule-config';
import { getRandomState, manualSeed, setRandomState } from '../random';
import type { TrainConfig } from './config';
import { CHECKPOINT_FILE, removeStaleTempFiles, saveCheckpoint, type LoadedCheckpoint, type RunState } from './checkpoint';
import { evaluate, nonFiniteNote, type EvalResult } from './evaluate';
import { MetricsLog, type MetricsRecord } from './metrics';
import { writeRunPlots } from './plots';
import { Progress, progressMode, type ProgressState } from './progress';
import { buildData, buildModel, closeData, initializeModel, resolveEta, withMupBase, type EtaSetup, type RunData } from './setup';
import { isPipelineLoader } from '../data/batches';
import { evaluateAll, pipelineNote } from './image-data';
import { mupInitReadout_ } from '../optim/mup';
import { makeScaler, runLoss } from './precision';
import { DeviceLossMeter } from './loss-meter';

export interface TrainOptions {
  /** Machine-readable output only: every metrics record is printed as a JSON line. */
  json?: boolean;
  /** Print nothing (scripts that run many trainings). */
  quiet?: boolean;
  /** Called with each progress update (what the bar shows; tests read the ETA from it). */
  onProgress?: (p: ProgressState) => void;
}

export interface TrainSummary {
  dir: string;
  steps: number;
  final: EvalResult;
  seconds: number;
  /** The resumed run was already finished: nothing was trained or written. */
  alreadyFinished?: boolean;
}

/** Test hook: after writing the checkpoint of this step, block (so a test can SIGKILL the run). */
const HOLD_AFTER = Number(process.env.LAYERWISE_HOLD_AFTER_CHECKPOINT ?? NaN);

/**
 * Trains `config` into `dir`. With `checkpoint` (from loadCheckpoint(dir), as --resume reads it
 * once for its config) the run continues from it; without, `dir` must not hold a run yet.
 */
export function runTraining(config: TrainConfig, dir: string, checkpoint: LoadedCheckpoint | null, options: TrainOptions = {}): TrainSummary {
  const started = performance.now();
  const progress = new Progress(progressMode(!!options.json || !!options.quiet));
  mkdirSync(dir, { recursive: true });
  if (!checkpoint && existsSync(path.join(dir, CHECKPOINT_FILE))) {
    throw new LayerwiseError('ERR_RUN_EXISTS', `${dir} already holds a run: pass --resume ${dir} to continue it, or --name for a new run`);
  }
  manualSeed(config.seed);
  const data = buildData(config);
  try {
    return trainOn(data, config, dir, checkpoint, options, started, progress);
  } finally {
    closeData(data);
  }
}

function trainOn(data: RunData, config: TrainConfig, dir: string, checkpoint: LoadedCheckpoint | null, options: TrainOptions, started: number, progress: Progress): TrainSummary {
  const model = buildModel(config, data);
  if (config.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const lossOf = runLoss(config);
  const scaler = makeScaler(config);
  const stepsPerEpoch = Math.ceil(data.train.length / config.accumulate);
  const totalSteps = config.maxSteps ?? config.epochs * stepsPerEpoch;
  if (checkpoint) {
    try {
      loadingFrom(path.join(dir, CHECKPOINT_FILE), () => model.loadStateDict(checkpoint.weights));
    } finally {
      for (const t of checkpoint.weights.values()) t.dispose();
    }
    if (checkpoint.state.step >= totalSteps) {
      // A finished run: its summary is written already; change nothing in its folder.
      const saved = checkpoint.state.final;
      const final: EvalResult = saved ? { nonFinite: 0, ...saved } : evaluate(model, data.test, { precision: config.precision });
      model.dispose();
      return { dir, steps: checkpoint.state.step, final, seconds: 0, alreadyFinished: true };
    }
    removeStaleTempFiles(dir);
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(data.classes ? { ...config, classes: data.classes } : config, null, 2) + '\n');
  for (const l of [data.train, data.test, data.v2]) if (l && isPipelineLoader(l)) l.logBadImagesTo(path.join(dir, 'bad-images.jsonl'));
  const log = new MetricsLog(path.join(dir, 'metrics.jsonl'), checkpoint?.state.metricsLines ?? 0);
  const record = (r: MetricsRecord) => {
    log.write(r);
    if (options.json && !options.quiet) console.log(JSON.stringify(r));
  };
  if (!checkpoint) {
    for (const message of scheduleWarnings(config, stepsPerEpoch, totalSteps)) {
      record({ kind: 'warning', message });
      if (!options.quiet) process.stderr.write(`warning: ${message}\n`);
    }
  }
  let eta: EtaSetup;
  if (checkpoint) {
    eta = resolveEtaFromState(model, checkpoint.state);
  } else {
    initializeModel(model, config);
    if (config.lrMode === 'mup' && config.initWeights === null) withMupBase(config, data, (base) => mupInitReadout_(model, base));
    eta = resolveEta(config, model, data);
    if (eta.profile) {
      saveProfile(path.join(dir, 'eta.json'), eta.profile);
      progress.message(formatProfileTable(eta.profile));
    }
    if (eta.probe) {
      const c = eta.profile?.convergence;
      record({
        kind: 'probe', steps: eta.probe.steps, stopped: eta.probe.stop, seconds: eta.probe.seconds, share_of_epoch_steps: eta.probe.steps / data.train.length,
        ...(c ? { tol: c.tol, window: c.window, min_steps: c.minSteps, change: c.change } : {}),
      });
      progress.message(`probe: ${eta.probe.steps} batches in ${eta.probe.seconds.toFixed(1)} s (stopped: ${eta.probe.stop})`);
    }
  }
  // The epoch line's data stall counts training batches only, not the probe's.
  if (isPipelineLoader(data.train)) data.train.takeStats();
  const optimizer = config.lrMode === 'mup'
    ? withMupBase(config, data, (mupBase) => buildOptimizer({ ...config, model, mupBase, larc: { trust: config.larcTrust, clip: config.larcClip } }))
    : buildOptimizer({ ...config, model, eta: eta.eta ?? undefined, larc: { trust: config.larcTrust, clip: config.larcClip } });
  const schedule = makeSchedule(config, stepsPerEpoch, totalSteps);
  const state: RunState = checkpoint?.state ?? {
    step: 0, epoch: 0, batchInEpoch: 0, epochLossSum: 0, epochLossCount: 0, random: getRandomState(),
    metricsLines: 0, config, eta: eta.profile, probe: eta.probe ? { steps: eta.probe.steps, seconds: eta.probe.seconds, stopped: eta.probe.stop } : null,
  };
  if (checkpoint) {
    checkpoint.restoreOptimizer(optimizer);
    setRandomState(checkpoint.state.random);
    if (checkpoint.state.scaler) scaler.loadStateDict(checkpoint.state.scaler);
  }
  // The step of the newest complete checkpoint on disk, for error messages.
  let lastSaved: number | null = checkpoint ? checkpoint.state.step : null;
  const lastCheckpoint = () => (lastSaved === null ? 'none (no checkpoint was written yet)' : String(lastSaved));
  // The training loss stays on the device between log points (loss-meter.ts).
  const meter = new DeviceLossMeter(model.device);
  let intervalLoss = 0;
  let intervalSteps = 0;
  let lastLoss = NaN;
  /** Reads the device loss sums into the host counters; stops the run at a non-finite loss. */
  const flushLoss = () => {
    const f = meter.flush();
    if (f.firstNonFinite !== null) {
      throw new LayerwiseError('ERR_NON_FINITE_LOSS', `training stopped at step ${f.firstNonFinite} (epoch ${state.epoch + 1}): the loss is ${Number.isFinite(f.lastStep) ? 'not finite' : f.lastStep}; the last checkpoint in ${dir} is from step ${lastCheckpoint()}`);
    }
    if (f.steps > 0) lastLoss = f.lastStep;
    state.epochLossSum += f.sum;
    state.epochLossCount += f.steps;
    intervalLoss += f.sum;
    intervalSteps += f.steps;
  };
  const save = () => {
    flushLoss();
    const broken = nonFiniteParameters(model);
    if (broken.length > 0) {
      throw new LayerwiseError('ERR_NON_FINITE_LOSS', `training stopped at step ${state.step}: parameters ${broken.slice(0, 5).join(', ')} are no longer finite; the last checkpoint in ${dir} is from step ${lastCheckpoint()}`);
    }
    state.random = getRandomState();
    state.metricsLines = log.lineCount;
    if (scaler.enabled) state.scaler = scaler.stateDict();
    saveCheckpoint(dir, model, optimizer, state);
    lastSaved = state.step;
    if (state.step === HOLD_AFTER) {
      process.stderr.write(`checkpoint ${state.step} written; holding (LAYERWISE_HOLD_AFTER_CHECKPOINT)\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
  };
  let final: EvalResult | null = null;
  let extra: Record<string, number> = {};
  let intervalStart = performance.now();
  let intervalImages = 0;
  // The ETA counts training steps only (not the probe, data loading, evaluation or checkpoints).
  let trainSeconds = 0;
  let stepsThisRun = 0;
  model.train();
  let epochStart = performance.now();
  let wholeEpoch = state.batchInEpoch === 0;
  while (state.step < totalSteps) {
    const batches = data.train.iterate(state.epoch, state.batchInEpoch);
    while (state.step < totalSteps && state.batchInEpoch < data.train.length) {
      const group = Math.min(config.accumulate, data.train.length - state.batchInEpoch);
      const stepStart = performance.now();
      meter.beginStep();
      for (let j = 0; j < group; j++) {
        scope(() => {
          const batch = batches.next().value!;
          intervalImages += batch.labels.shape[0];
          const l = lossOf(model, batch);
          const share = group > 1 ? scale(l, 1 / group) : l;
          meter.add(share, state.step + 1);
          scaler.scale(share).backward();
        });
      }
      meter.endStep();
      const lr = schedule.apply(optimizer, state.step);
      const stepped = scaler.step(optimizer);
      scaler.update();
      optimizer.zeroGrad();
      if (!stepped) record({ kind: 'skipped_step', step: state.step + 1, reason: 'non-finite gradients (fp16 loss scaling)', scale: scaler.getScale() });
      trainSeconds += (performance.now() - stepStart) / 1000;
      stepsThisRun++;
      state.step++;
      state.batchInEpoch += group;
      const logNow = state.step % config.logInterval === 0 || state.step === totalSteps;
      const seconds = (performance.now() - intervalStart) / 1000;
      const imagesPerSecond = intervalImages / Math.max(seconds, 1e-9);
      if (logNow || state.batchInEpoch === data.train.length) flushLoss();  // epoch ends read the sums too
      if (logNow) {
        record({ kind: 'step', step: state.step, epoch: state.epoch + 1, loss: lastLoss, loss_avg: intervalLoss / intervalSteps, lr, images_per_s: imagesPerSecond });
        intervalStart = performance.now();
        intervalImages = 0;
        intervalLoss = 0;
        intervalSteps = 0;
      }
      const shown: ProgressState = {
        label: `epoch ${state.epoch + 1}/${Math.ceil(totalSteps / stepsPerEpoch)}`, done: state.step, total: totalSteps,
        imagesPerSecond, loss: lastLoss, lr,
        etaSeconds: (trainSeconds / stepsThisRun) * (totalSteps - state.step),
      };
      progress.update(shown, logNow);
      options.onProgress?.(shown);
      if (config.checkpointEvery !== null && state.step % config.checkpointEvery === 0 && state.step < totalSteps) save();
    }
    batches.return?.(undefined);
    const epochDone = state.batchInEpoch === data.train.length;
    if (epochDone || state.step === totalSteps) {
      const epochSeconds = (performance.now() - epochStart) / 1000;
      const pipeline = isPipelineLoader(data.train) ? data.train.takeStats() : null;
      const evaluated = evaluateAll(model, data, config.precision);
      final = evaluated.val;
      extra = evaluated.fields;
      // The probe's cost as a share of one training epoch, measured on the first full epoch.
      const probeSeconds = (state.probe as { seconds: number } | null)?.seconds;
      const probeShare = epochDone && wholeEpoch && state.epoch === 0 && probeSeconds !== undefined ? probeSeconds / epochSeconds : null;
      record({
        kind: 'epoch', epoch: state.epoch + 1, step: state.step, complete: epochDone, seconds: epochSeconds,
        ...(probeShare !== null ? { probe_share_of_epoch_time: probeShare } : {}),
        train_loss: state.epochLossSum / Math.max(state.epochLossCount, 1),
        test_loss: final.loss, test_top1: final.top1, test_top5: final.top5,
        ...(final.nonFinite > 0 ? { test_non_finite: final.nonFinite } : {}),
        ...extra, ...(pipeline ?? {}),
      });
      if (probeShare !== null) progress.message(`probe cost: ${(100 * probeShare).toFixed(0)}% of the first epoch's time`);
      progress.message(`epoch ${state.epoch + 1}: train loss ${(state.epochLossSum / Math.max(state.epochLossCount, 1)).toFixed(4)}, test loss ${final.loss.toFixed(4)}, top-1 ${final.top1.toFixed(2)}%, top-5 ${final.top5.toFixed(2)}%${nonFiniteNote(final)}${pipelineNote(extra, pipeline)}`);
      if (epochDone) {
        state.epoch++;
        state.batchInEpoch = 0;
        state.epochLossSum = 0;
        state.epochLossCount = 0;
      }
      writeRunPlots(dir);
      if (config.checkpointEvery === null && state.step < totalSteps) save();
      epochStart = performance.now();
      wholeEpoch = true;
    }
  }
  progress.finish();
  if (final === null) {
    const evaluated = evaluateAll(model, data, config.precision);
    final = evaluated.val;
    extra = evaluated.fields;
  }
  const seconds = (performance.now() - started) / 1000;
  record({ kind: 'summary', steps: state.step, epochs: state.epoch, test_loss: final.loss, test_top1: final.top1, test_top5: final.top5, ...(final.nonFinite > 0 ? { test_non_finite: final.nonFinite } : {}), ...extra, seconds });
  state.final = { loss: final.loss, top1: final.top1, top5: final.top5, samples: final.samples, nonFinite: final.nonFinite };
  save();
  writeRunPlots(dir);
  meter.dispose();
  scaler.dispose();
  optimizer.dispose();
  model.dispose();
  return { dir, steps: state.step, final, seconds };
}

/** Names of parameters holding NaN or infinite values (one native reduction for all). */
function nonFiniteParameters(model: Module): string[] {
  const named = model.namedParameters();
  const out = Tensor.empty([named.length], { device: model.device });
  try {
    kernels.multi_reduce_abs_sum(out.buffer, named.map(([, p]) => p.buffer), named.map(([, p]) => p.numel), named.map(([, p]) => 1 / Math.max(p.numel, 1)), named.length);
    const means = out.toArray();
    return named.filter((_, i) => !Number.isFinite(means[i])).map(([n]) => n);
  } finally {
    out.dispose();
  }
}


/** The eta of a resumed run: the profile stored in its checkpoint (no new probe). */
function resolveEtaFromState(model: Module, state: RunState): EtaSetup {
  const profile = state.eta as EtaProfile | null;
  return { profile, eta: profile ? etaForModel(model, profile, 'checkpoint eta profile') : null, probe: null };
}
