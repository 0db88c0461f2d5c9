// The training configuration: every setting with its default, validation that names the option
// and what it accepts, and the merge of defaults <- JSON config file <- command-line options.
// The resolved config is written into the run folder (config.json) and into checkpoints.
import { existsSync, readFileSync } from 'node:fs';
import { ArgumentError } from '../errors';
import { DEFAULT_CONVERGENCE, validateConvergence } from '../layerwise/convergence';
import { modelNames } from '../models';
import { recipeNames } from './recipes';

import { LR_MODES, type LrMode } from '../optim/build';

export { LR_MODES, type LrMode };

export interface TrainConfig {
  /** Run name: the folder runs/<name>; default <model>-<lrMode>-<optimizer>-seed<seed>. */
  name: string | null;
  outDir: string;
  data: string;
  model: string;
  /** Classes of the model's head (null: from the data). */
  numClasses: number | null;
  /** Hidden width of mlp / cnn (null: the model's default). */
  hidden: number | null;
  /** Dropout probability (timm's drop_rate): before the mlp's readout; in ViT's MLP, projection and head (0: none). */
  drop: number;
  /** Stochastic-depth rate (timm's drop_path_rate), rising linearly over the blocks of ViT, ConvNeXt and Swin (0: none). */
  dropPath: number;
  epochs: number;
  /** Stop after this many optimizer steps (null: epochs decide). */
  maxSteps: number | null;
  batchSize: number;
  /** Micro-batches per optimizer step (effective batch = batchSize * accumulate). */
  accumulate: number;
  evalBatchSize: number;
  optimizer: 'sgd' | 'adamw';
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** No weight decay on norm scales/shifts and biases. */
  noDecayNormBias: boolean;
  betas: [number, number];
  eps: number;
  schedule: 'cosine' | 'step' | 'constant';
  /** Linear warmup in optimizer steps; takes precedence over warmupEpochs when set. */
  warmupSteps: number | null;
  /** Linear warmup in epochs (fractions allowed; default 0.5). */
  warmupEpochs: number | null;
  /** Evaluate the schedule every optimizer step or once per epoch. */
  scheduleEvery: 'step' | 'epoch';
  stepSize: number;
  gamma: number;
  minLr: number;
  lrMode: LrMode;
  /** Initialization: the paper's (docs/method.md section 2.1) or PyTorch's defaults. */
  init: 'paper' | 'pytorch';
  fanOut: 'pytorch' | 'grouped';
  initWeights: string | null;
  /** Probe batches T: a number, 'epoch' (the paper) or 'auto' (stop when eta has converged, at most one epoch). */
  probeSteps: number | 'epoch' | 'auto';
  /** --probe-steps auto: stop when no tensor's eta changed by more than this (relative) over probeWindow batches. */
  probeTol: number;
  /** --probe-steps auto: batches over which the change is measured. */
  probeWindow: number;
  /** --probe-steps auto: the first batch at which convergence is checked. */
  probeMinSteps: number;
  probeReduce: 'mean' | 'sum';
  etaFrom: string | null;
  zeroGradient: 'error' | 'fallback';
  degenerate: 'eta1' | 'freeze';
  larcTrust: number;
  larcClip: boolean;
  mupBaseWidth: number;
  /** Training augmentation ('none', 'flip', 'crop32-pad4,flip', ...). */
  transform: string;
  /** Shuffle the training data each epoch (null: yes, except for the tensors dataset). */
  shuffle: boolean | null;
  seed: number;
  logInterval: number;
  /** Checkpoint every N optimizer steps (null: at each epoch end); always at the end. */
  checkpointEvery: number | null;
  device: 'cpu' | 'cuda';
  /** On CUDA, float32 GEMMs and convolutions may use TF32 tensor cores (--no-tf32 clears it); kept for --resume. */
  tf32: boolean;
  /** Arithmetic of matmul/linear/conv: fp32, or autocast to bf16 / fp16 (fp16 with loss scaling); weights stay float32. */
  precision: 'fp32' | 'bf16' | 'fp16';
  /** Run image tensors channels-last (NHWC in memory), as PyTorch's memory_format=torch.channels_last. */
  channelsLast: boolean;
  /** The recipe (--recipe, src/train/recipes.ts) whose settings sit under the file's and the command line's; null: none. */
  recipe: string | null;
  // Image folders (--data imagenet:DIR / folder:DIR; docs/data.md).
  /** Decode worker threads (null: the core count, os.availableParallelism()). */
  workers: number | null;
  /** Training augmentation of image folders: RandomResizedCrop + flip, or that + RandAugment m10 n2 and Mixup. */
  aug: 'basic' | 'strong';
  /** Mixup alpha (lambda ~ Beta(alpha, alpha) per batch; 0: off; null: 0.5 with --aug strong, else off). */
  mixup: number | null;
  /** Replace undecodable or oversized images by another of their class (listed in bad-images.jsonl) instead of stopping. */
  skipBadImages: boolean;
  /** Images with more pixels than this are refused (as bad images). */
  maxImagePixels: number;
  /** Evaluation crop: resize the shorter side to round(imageSize / cropFraction), centre crop imageSize. */
  cropFraction: number;
  /** Side of the square samples of image folders. */
  imageSize: number;
  /** An extra evaluation set in ImageNet-V2 layout (DIR/<class>/*; numeric folders are class numbers). */
  evalData: string | null;
  /** ImageNet-ReaL labels (real.json: a list of label lists, one per validation image in ILSVRC2012_val_* order). */
  realLabels: string | null;
}

export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  name: null,
  outDir: 'runs',
  data: 'fashion-mnist',
  model: 'cnn',
  numClasses: null,
  hidden: null,
  drop: 0,
  dropPath: 0,
  epochs: 5,
  maxSteps: null,
  batchSize: 128,
  accumulate: 1,
  evalBatchSize: 500,
  optimizer: 'sgd',
  lr: 0.1,
  momentum: 0.9,
  nesterov: false,
  weightDecay: 5e-4,
  noDecayNormBias: false,
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  schedule: 'cosine',
  warmupSteps: null,
  warmupEpochs: 0.5,
  scheduleEvery: 'step',
  stepSize: 30,
  gamma: 0.1,
  minLr: 0,
  lrMode: 'layerwise',
  init: 'paper',
  fanOut: 'pytorch',
  initWeights: null,
  probeSteps: 'epoch',
  probeTol: DEFAULT_CONVERGENCE.tol,
  probeWindow: DEFAULT_CONVERGENCE.window,
  probeMinSteps: DEFAULT_CONVERGENCE.minSteps,
  probeReduce: 'mean',
  etaFrom: null,
  zeroGradient: 'error',
  degenerate: 'eta1',
  larcTrust: 0.001,
  larcClip: true,
  mupBaseWidth: 256,
  transform: 'none',
  shuffle: null,
  seed: 0,
  logInterval: 50,
  checkpointEvery: null,
  device: 'cpu',
  tf32: true,
  precision: 'fp32',
  channelsLast: false,
  recipe: null,
  workers: null,
  aug: 'basic',
  mixup: null,
  skipBadImages: false,
  maxImagePixels: 100_000_000,
  cropFraction: 0.875,
  imageSize: 224,
  evalData: null,
  realLabels: null,
});

/** The Mixup alpha a run uses: --mixup, else 0.5 with --aug strong (the paper's strong recipe), else 0. */
export function mixupAlpha(c: Pick<TrainConfig, 'mixup' | 'aug'>): number {
  return c.mixup ?? (c.aug === 'strong' ? 0.5 : 0);
}

/** Whether the data spec names an image folder (imagenet:DIR or folder:DIR). */
export function isImageFolderSpec(data: string): boolean {
  return /^(imagenet|folder):/.test(data);
}

const CHOICES: Partial<Record<keyof TrainConfig, readonly string[]>> = {
  optimizer: ['sgd', 'adamw'],
  schedule: ['cosine', 'step', 'constant'],
  scheduleEvery: ['step', 'epoch'],
  lrMode: LR_MODES,
  init: ['paper', 'pytorch'],
  fanOut: ['pytorch', 'grouped'],
  probeReduce: ['mean', 'sum'],
  zeroGradient: ['error', 'fallback'],
  degenerate: ['eta1', 'freeze'],
  device: ['cpu', 'cuda'],
  precision: ['fp32', 'bf16', 'fp16'],
  aug: ['basic', 'strong'],
};

/** The command-line spelling of a config key (lrMode -> --lr-mode). */
export function optionName(key: string): string {
  const special: Record<string, string> = { configFile: '--config', noDecayNormBias: '--wd-exclude-norm-bias', wdExcludeNormBias: '--wd-exclude-norm-bias' };
  return special[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function bad(key: keyof TrainConfig, value: unknown, accepted: string): never {
  throw new ArgumentError(`${optionName(key)}: got ${JSON.stringify(value)}; accepted: ${accepted}`);
}

/** Checks every field; throws an ArgumentError naming the option and what it accepts. */
export function validateConfig(c: TrainConfig): TrainConfig {
  for (const [key, choices] of Object.entries(CHOICES) as [keyof TrainConfig, readonly string[]][]) {
    if (!choices.includes(c[key] as string)) bad(key, c[key], choices.join(', '));
  }
  if (!modelNames().includes(c.model)) bad('model', c.model, modelNames().join(', '));
  if (c.recipe !== null && !recipeNames().includes(c.recipe)) bad('recipe', c.recipe, recipeNames().join(', '));
  const positiveInt: (keyof TrainConfig)[] = ['epochs', 'batchSize', 'accumulate', 'evalBatchSize', 'logInterval', 'stepSize', 'mupBaseWidth'];
  for (const k of positiveInt) if (!Number.isSafeInteger(c[k]) || (c[k] as number) < 1) bad(k, c[k], 'a positive integer');
  for (const k of ['maxSteps', 'checkpointEvery', 'hidden', 'numClasses'] as const) {
    if (c[k] !== null && (!Number.isSafeInteger(c[k]) || c[k]! < 1)) bad(k, c[k], 'a positive integer');
  }
  if (c.warmupSteps !== null && (!Number.isSafeInteger(c.warmupSteps) || c.warmupSteps < 0)) bad('warmupSteps', c.warmupSteps, 'a non-negative integer');
  if (c.warmupEpochs !== null && !(c.warmupEpochs >= 0 && Number.isFinite(c.warmupEpochs))) bad('warmupEpochs', c.warmupEpochs, 'a number >= 0');
  if (c.probeSteps !== 'epoch' && c.probeSteps !== 'auto' && (!Number.isSafeInteger(c.probeSteps) || c.probeSteps < 1)) {
    bad('probeSteps', c.probeSteps, "a positive integer, 'epoch' or 'auto'");
  }
  const probeKey = { tol: 'probeTol', window: 'probeWindow', minSteps: 'probeMinSteps' } as const;
  validateConvergence({ tol: c.probeTol, window: c.probeWindow, minSteps: c.probeMinSteps }, (k) => optionName(probeKey[k]));
  for (const k of ['lr', 'weightDecay', 'momentum', 'minLr', 'eps', 'larcTrust'] as const) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || c[k] < 0) bad(k, c[k], 'a finite number >= 0');
  }
  if (!(c.lr > 0)) bad('lr', c.lr, 'a positive number');
  if (!(c.gamma > 0 && c.gamma <= 1)) bad('gamma', c.gamma, 'a number in (0, 1]');
  if (!Array.isArray(c.betas) || c.betas.length !== 2 || !c.betas.every((b) => b >= 0 && b < 1)) bad('betas', c.betas, 'two numbers in [0, 1)');
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) bad('seed', c.seed, 'a non-negative integer');
  if (typeof c.data !== 'string' || c.data.length === 0) bad('data', c.data, 'a data spec such as fashion-mnist or cifar10:DIR');
  for (const k of ['initWeights', 'etaFrom'] as const) {
    if (c[k] !== null && !existsSync(c[k]!)) bad(k, c[k], 'an existing file');
  }
  if (c.etaFrom !== null && c.lrMode !== 'layerwise') bad('etaFrom', c.etaFrom, "only with --lr-mode layerwise");
  const needs: Partial<Record<LrMode, TrainConfig['optimizer']>> = { 'sgd-ng': 'sgd', larc: 'sgd', 'adam-ng': 'adamw', lamb: 'adamw' };
  const need = needs[c.lrMode];
  if (need && c.optimizer !== need) bad('optimizer', c.optimizer, `${need} (with --lr-mode ${c.lrMode})`);
  if (typeof c.channelsLast !== 'boolean') bad('channelsLast', c.channelsLast, 'true or false');
  if (typeof c.tf32 !== 'boolean') bad('tf32', c.tf32, 'true or false');
  for (const k of ['drop', 'dropPath'] as const) {
    if (!(typeof c[k] === 'number' && c[k] >= 0 && c[k] < 1)) bad(k, c[k], 'a number in [0, 1)');
  }
  validateImageOptions(c);
  if (c.lrMode === 'mup' && c.model !== 'mlp') bad('lrMode', c.lrMode, `mup works with --model mlp (its readout layer); got --model ${c.model}`);
  return c;
}

function validateImageOptions(c: TrainConfig): void {
  if (c.workers !== null && (!Number.isSafeInteger(c.workers) || c.workers < 1)) bad('workers', c.workers, 'a positive integer');
  if (c.mixup !== null && !(typeof c.mixup === 'number' && Number.isFinite(c.mixup) && c.mixup >= 0)) bad('mixup', c.mixup, 'a number >= 0 (0: off)');
  if (typeof c.skipBadImages !== 'boolean') bad('skipBadImages', c.skipBadImages, 'true or false');
  if (!Number.isSafeInteger(c.maxImagePixels) || c.maxImagePixels < 1) bad('maxImagePixels', c.maxImagePixels, 'a positive integer');
  if (!(typeof c.cropFraction === 'number' && c.cropFraction > 0 && c.cropFraction <= 1)) bad('cropFraction', c.cropFraction, 'a number in (0, 1]');
  if (!Number.isSafeInteger(c.imageSize) || c.imageSize < 1) bad('imageSize', c.imageSize, 'a positive integer');
  for (const k of ['evalData', 'realLabels'] as const) {
    if (c[k] !== null && !existsSync(c[k]!)) bad(k, c[k], k === 'evalData' ? 'an existing folder' : 'an existing file');
  }
  if (!isImageFolderSpec(c.data)) {
    if (c.aug !== 'basic') bad('aug', c.aug, `basic (--aug strong is for image folders, --data imagenet:DIR or folder:DIR; got --data ${c.data})`);
    if (mixupAlpha(c) > 0) bad('mixup', c.mixup, `0 (Mixup is for image folders, --data imagenet:DIR or folder:DIR; got --data ${c.data})`);
    for (const k of ['evalData', 'realLabels'] as const) if (c[k] !== null) bad(k, c[k], `only with an image folder (--data imagenet:DIR or folder:DIR)`);
  }
}

/** Reads a JSON config file (keys in camelCase or as the long option names, e.g. "lr-mode"). */
export function readConfigFile(file: string): Partial<TrainConfig> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ArgumentError(`--config ${file}: ${(e as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ArgumentError(`--config ${file}: expected a JSON object`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const key = k.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(key in DEFAULT_CONFIG)) throw new ArgumentError(`--config ${file}: unknown setting '${k}' (known: ${Object.keys(DEFAULT_CONFIG).join(', ')})`);
    out[key] = v;
  }
  return out as Partial<TrainConfig>;
}

/** defaults <- recipe <- config file <- explicit options; validated. */
export function resolveConfig(fromFile: Partial<TrainConfig>, fromCli: Partial<TrainConfig>, fromRecipe: Partial<TrainConfig> = {}): TrainConfig {
  return validateConfig({ ...DEFAULT_CONFIG, betas: [...DEFAULT_CONFIG.betas], ...fromRecipe, ...fromFile, ...fromCli } as TrainConfig);
}

export function runName(c: TrainConfig): string {
  return c.name ?? `${c.model}-${c.lrMode}-${c.optimizer}-seed${c.seed}`;
}
