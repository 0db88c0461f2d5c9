// What a training run builds before its first step: the data loaders, the model (initialized by
// the paper's rule, PyTorch's defaults, or --init-weights), and the learning-rate multipliers of
// the chosen --lr-mode: the probe (Algorithm 1) or a saved profile for 'layerwise', depth-linear
// profiles for 'increasing' / 'decreasing'.
import type { Dataset } from '../data/dataset';
import { parseDataSpec } from '../data/spec';
import { FileFormatError } from '../errors';
import { DataLoader, type Batch } from '../data/loader';
import type { BatchLoader } from '../data/batches';
import { buildImageData, closeLoaders } from './image-data';
import type { RealLabels } from './real';
import { loadingFrom, loadStateDictFile } from '../io/state-dict';
import { depthEta } from '../layerwise/depth';
import { probe, type ProbeResult } from '../layerwise/probe';
import type { ProbeConvergence } from '../layerwise/convergence';
import { degenerateSummary, etaForModel, loadProfile, type EtaProfile, type ProbeStop } from '../layerwise/profile';
import { createModel, modelEntry } from '../models';
import { loadExternalState } from '../models/weights';
import { paperInit_ } from '../nn/init';
import type { Module } from '../nn/module';
import type { Parameter } from '../nn/parameter';
import type { TrainConfig } from './config';
import { runLoss } from './precision';

export interface RunData {
  train: BatchLoader;
  test: BatchLoader;
  numClasses: number;
  /** Class names of an image folder (written into the run's config.json). */
  classes?: string[];
  /** Image folders: the --eval-data loader and the --real-labels of the validation split. */
  v2?: BatchLoader | null;
  real?: RealLabels | null;
}

/** Stops the decode threads of the run's image-folder loaders (nothing for in-memory data). */
export function closeData(data: RunData): void {
  closeLoaders(data.train, data.test, data.v2);
}

/**
 * Opens both splits of config.data and checks them at once, before anything trains or probes:
 * an empty split, or train and test samples of different shapes, are errors naming the file(s).
 * Image folders get image-folder loaders (image-data.ts).
 */
export function buildData(config: TrainConfig): RunData {
  const source = parseDataSpec(config.data);
  if (source.folder !== undefined) return buildImageData(config, source.folder);
  const trainSet = source.load('train');
  const testSet = source.load('test');
  checkSplits(config.data, trainSet, testSet);
  const isU8 = trainSet.kind === 'u8';
  const memoryFormat = config.channelsLast ? 'channelsLast' : 'contiguous';
  const train = new DataLoader({
    dataset: trainSet, batchSize: config.batchSize, shuffle: config.shuffle ?? source.kind !== 'tensors', seed: config.seed,
    transform: isU8 ? config.transform : 'none', device: config.device, memoryFormat,
  });
  const test = new DataLoader({ dataset: testSet, batchSize: config.evalBatchSize, shuffle: false, device: config.device, memoryFormat });
  const [a, b] = [train.sampleDims, test.sampleDims];
  if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
    throw new FileFormatError(fileOf(config.data, trainSet), `training samples are ${a.channels}x${a.height}x${a.width} after --transform ${config.transform}, `
      + `the test samples of ${fileOf(config.data, testSet)} are ${b.channels}x${b.height}x${b.width}: the model could not evaluate them`);
  }
  return { train, test, numClasses: Math.max(trainSet.numClasses, testSet.numClasses) };
}

/** The file(s) a split was read from, or the data spec for generated data. */
function fileOf(spec: string, set: Dataset): string {
  return set.source ?? `data spec '${spec}' (${set.name})`;
}

function checkSplits(spec: string, train: Dataset, test: Dataset): void {
  for (const [split, set] of [['training', train], ['test', test]] as const) {
    if (set.size === 0) throw new FileFormatError(fileOf(spec, set), `the ${split} split has no samples (${set.name}); nothing to ${split === 'test' ? 'evaluate' : 'train'} on`);
  }
  const shape = (d: Dataset) => `${d.channels}x${d.height}x${d.width}`;
  if (shape(train) !== shape(test)) {
    throw new FileFormatError(fileOf(spec, train), `training samples are ${shape(train)} (C x H x W), but the test samples of `
      + `${fileOf(spec, test)} are ${shape(test)}: train and test must have one sample shape`);
  }
}

export function buildModel(config: TrainConfig, data: RunData, hidden: number | null = config.hidden): Module {
  const { channels, height, width } = data.train.sampleDims;
  const model = createModel(config.model, { inputShape: [channels, height, width], numClasses: config.numClasses ?? data.numClasses, hidden: hidden ?? undefined, drop: config.drop ?? 0, dropPath: config.dropPath ?? 0 });
  // Built on the CPU (the constructors' default init), then moved where the batches are.
  return model.to(config.device);
}

/** Runs fn with the --mup-base-width model of the same architecture (disposed afterwards). */
export function withMupBase<T>(config: TrainConfig, data: RunData, fn: (base: Module) => T): T {
  const base = buildModel(config, data, config.mupBaseWidth);
  try {
    return fn(base);
  } finally {
    base.dispose();
  }
}

/** Paper init, PyTorch defaults (already applied by the constructors) or weights from a file. */
export function initializeModel(model: Module, config: TrainConfig): void {
  if (config.initWeights !== null) {
    const { tensors } = loadStateDictFile(config.initWeights);
    try {
      loadingFrom(config.initWeights, () => loadExternalState(model, tensors, modelEntry(config.model).mapping));
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  } else if (config.init === 'paper') {
    paperInit_(model.parameters(), { seed: config.seed, fanOut: config.fanOut });
  }
}

/** The training loader's batches in order across epochs, from epoch 0. */
export function* trainingBatches(loader: BatchLoader): Generator<Batch> {
  for (let epoch = 0; ; epoch++) yield* loader.iterate(epoch);
}

export interface EtaSetup {
  profile: EtaProfile | null;
  eta: Map<Parameter, number> | null;
  /** The probe's result, with why it stopped in the run's terms (null when there was no probe). */
  probe: (ProbeResult & { stop: ProbeStop }) | null;
}

function profileOf(config: TrainConfig, steps: number, entries: EtaProfile['params'], model: Module, extra: Partial<EtaProfile> = {}): EtaProfile {
  const roles = new Map(model.namedParameters().map(([n, p]) => [n, p.role]));
  return {
    format: 'layerwise-eta/1', model: config.model, steps, batchSize: config.batchSize, seed: config.seed,
    data: config.data, reduce: config.probeReduce, ...extra, degenerate: degenerateSummary(entries),
    params: entries.map((e) => ({ ...e, role: roles.get(e.name) })),
  };
}

/** The probe's T (at most), and with --probe-steps auto its stopping rule. */
export function probePlan(config: TrainConfig, epochSteps: number): { steps: number; converge?: ProbeConvergence } {
  if (config.probeSteps === 'auto') {
    return { steps: epochSteps, converge: { tol: config.probeTol, window: config.probeWindow, minSteps: config.probeMinSteps } };
  }
  return { steps: config.probeSteps === 'epoch' ? epochSteps : config.probeSteps };
}

/** The eta of --lr-mode: probed, loaded (--eta-from), depth-linear, or none. */
export function resolveEta(config: TrainConfig, model: Module, data: RunData): EtaSetup {
  if (config.lrMode === 'increasing' || config.lrMode === 'decreasing') {
    const entries = depthEta(model.namedParameters(), config.lrMode);
    const profile = profileOf(config, 0, entries, model);
    return { profile, eta: etaForModel(model, profile), probe: null };
  }
  if (config.lrMode !== 'layerwise') return { profile: null, eta: null, probe: null };
  if (config.etaFrom !== null) {
    const profile = loadProfile(config.etaFrom);
    return { profile, eta: etaForModel(model, profile, config.etaFrom), probe: null };
  }
  const epochSteps = data.train.length;
  const { steps, converge } = probePlan(config, epochSteps);
  const batches = trainingBatches(data.train);
  const result = probe(model, () => batches.next().value as Batch, {
    loss: runLoss(config), steps, converge, reduce: config.probeReduce, zeroGradient: config.zeroGradient, degenerate: config.degenerate,
  });
  batches.return(undefined);
  const stop: ProbeStop = result.stopped === 'converged' ? 'converged' : config.probeSteps === 'epoch' || converge ? 'epoch' : 'steps';
  const convergence = converge
    ? { ...converge, epochSteps, change: Number.isFinite(result.change) ? result.change! : null }
    : undefined;
  const profile = profileOf(config, result.steps, result.entries, model, { seconds: result.seconds, stopped: stop, convergence });
  return { profile, eta: etaForModel(model, profile), probe: { ...result, stop } };
}
