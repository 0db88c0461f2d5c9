// The paper's training recipes (its Table 5, docs/method.md section 9) as named bundles of
// settings: `layerwise train --recipe NAME --data imagenet:DIR`. A recipe sits between the defaults
// and the user's settings (defaults <- recipe <- --config file <- command line), so every explicit
// option overrides it. Where the paper is silent (warmup length, the per-step batch that
// accumulation multiplies, decay exclusions) the recipe says what it chose and why in `notes`.
//
// Effective batches: the paper trains large batches by gradient accumulation on one GPU; the
// recipes keep 256 images per micro-batch (ResNet-50 at 224 px, bf16 channels-last: about 25 GB of
// activations on the GPU; ViT-S/ConvNeXt-T/Swin-T similar) and accumulate up to the paper's batch.
import { ArgumentError } from '../errors';

/** Which data a recipe is meant for; --data must be of that kind. */
export type RecipeData = 'imagenet' | 'cifar10' | 'cifar100';

export interface Recipe {
  readonly name: string;
  readonly description: string;
  /** The paper's row (model, optimizer, augmentation, epochs) this recipe reproduces. */
  readonly paperRow: string;
  readonly data: RecipeData;
  /** Config keys (camelCase, as TrainConfig) and their values. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Choices made where the paper is silent. */
  readonly notes: readonly string[];
}

const IMAGENET_WARMUP_NOTE = 'warmup length is not given by the paper: 5 epochs for ResNet-50 (Goyal et al. 2017), 20 for the transformers and ConvNeXt (their papers\' recipes)';
const NO_DECAY_NOTE = 'no weight decay on norms and biases (--wd-exclude-norm-bias), as timm\'s AdamW recipes; the paper does not say';

const imagenetSgd = { optimizer: 'sgd', momentum: 0.9, nesterov: false, schedule: 'cosine', scheduleEvery: 'step' } as const;
const imagenetAdamw = { optimizer: 'adamw', betas: [0.9, 0.999], eps: 1e-8, schedule: 'cosine', scheduleEvery: 'step', noDecayNormBias: true } as const;

export const RECIPES: Readonly<Record<string, Recipe>> = {
  'resnet50-sgd-basic': {
    name: 'resnet50-sgd-basic', data: 'imagenet',
    description: 'ResNet-50, SGD, basic augmentation, 90 epochs, batch 256',
    paperRow: 'ResNet-50 | SGD | basic | 90 epochs | single 76.80 | layer-wise 77.12',
    settings: { model: 'resnet50', ...imagenetSgd, batchSize: 256, accumulate: 1, lr: 0.1, weightDecay: 1e-4, epochs: 90, warmupEpochs: 5, aug: 'basic' },
    notes: [IMAGENET_WARMUP_NOTE],
  },
  'resnet50-adamw-basic': {
    name: 'resnet50-adamw-basic', data: 'imagenet',
    description: 'ResNet-50, AdamW, basic augmentation, 90 epochs, batch 1024 (256 x 4 accumulated)',
    paperRow: 'ResNet-50 | AdamW | basic | 90 epochs | single 76.40 | layer-wise 76.67',
    settings: { model: 'resnet50', ...imagenetAdamw, batchSize: 256, accumulate: 4, lr: 3e-3, weightDecay: 0.1, epochs: 90, warmupEpochs: 5, aug: 'basic' },
    notes: [IMAGENET_WARMUP_NOTE, NO_DECAY_NOTE],
  },
  'resnet50-sgd-strong': {
    name: 'resnet50-sgd-strong', data: 'imagenet',
    description: 'ResNet-50, SGD, strong augmentation (RandAugment m10 n2 + Mixup 0.5), 300 epochs, batch 256',
    paperRow: 'ResNet-50 | SGD | strong | 300 epochs | single 78.41 | layer-wise 79.12',
    settings: { model: 'resnet50', ...imagenetSgd, batchSize: 256, accumulate: 1, lr: 0.1, weightDecay: 1e-4, epochs: 300, warmupEpochs: 5, aug: 'strong' },
    notes: [IMAGENET_WARMUP_NOTE],
  },
  'convnext_tiny-adamw-strong': {
    name: 'convnext_tiny-adamw-strong', data: 'imagenet',
    description: 'ConvNeXt-T, AdamW, strong augmentation, drop path 0.1, 300 epochs, batch 4096 (256 x 16 accumulated)',
    paperRow: 'ConvNeXt-T | AdamW | strong | 300 epochs | single 80.49 | layer-wise 80.56',
    settings: { model: 'convnext_tiny', ...imagenetAdamw, batchSize: 256, accumulate: 16, lr: 4e-3, weightDecay: 0.05, dropPath: 0.1, epochs: 300, warmupEpochs: 20, aug: 'strong' },
    notes: [IMAGENET_WARMUP_NOTE, NO_DECAY_NOTE],
  },
  'vit_small-sgd-basic': {
    name: 'vit_small-sgd-basic', data: 'imagenet',
    description: 'ViT-S/16, SGD, basic augmentation, dropout 0.1, drop path 0.1, 300 epochs, batch 4096 (256 x 16)',
    paperRow: 'ViT-S/16 | SGD | basic | 300 epochs | single 65.53 | layer-wise 70.29',
    settings: { model: 'vit_small_patch16_224', ...imagenetSgd, batchSize: 256, accumulate: 16, lr: 0.5, weightDecay: 1e-4, drop: 0.1, dropPath: 0.1, epochs: 300, warmupEpochs: 20, aug: 'basic' },
    notes: [IMAGENET_WARMUP_NOTE, 'the paper gives lr 0.5 and 1.6 for this row without saying which run used which; the recipe sets 0.5, pass --lr 1.6 for the other'],
  },
  'vit_small-adamw-basic': {
    name: 'vit_small-adamw-basic', data: 'imagenet',
    description: 'ViT-S/16, AdamW, basic augmentation, dropout 0.1, drop path 0.1, 300 epochs, batch 4096 (256 x 16)',
    paperRow: 'ViT-S/16 | AdamW | basic | 300 epochs | single 74.11 | layer-wise 74.58',
    settings: { model: 'vit_small_patch16_224', ...imagenetAdamw, batchSize: 256, accumulate: 16, lr: 1e-2, weightDecay: 0.1, drop: 0.1, dropPath: 0.1, epochs: 300, warmupEpochs: 20, aug: 'basic' },
    notes: [IMAGENET_WARMUP_NOTE, NO_DECAY_NOTE],
  },
  'vit_small-adamw-strong': {
    name: 'vit_small-adamw-strong', data: 'imagenet',
    description: 'ViT-S/16, AdamW, strong augmentation, drop path 0.1, 300 epochs, batch 4096 (256 x 16)',
    paperRow: 'ViT-S/16 | AdamW | strong | 300 epochs (the paper\'s strong-augmentation ViT run)',
    settings: { model: 'vit_small_patch16_224', ...imagenetAdamw, batchSize: 256, accumulate: 16, lr: 1e-2, weightDecay: 0.1, drop: 0, dropPath: 0.1, epochs: 300, warmupEpochs: 20, aug: 'strong' },
    notes: [IMAGENET_WARMUP_NOTE, NO_DECAY_NOTE, 'dropout 0.1 is the paper\'s setting with basic augmentation; with strong augmentation the recipe keeps only drop path 0.1 (DeiT\'s choice)'],
  },
  'swin_tiny-adamw-strong': {
    name: 'swin_tiny-adamw-strong', data: 'imagenet',
    description: 'Swin-T, AdamW, strong augmentation, drop path 0.2, 300 epochs, batch 1024 (256 x 4)',
    paperRow: 'Swin-T | AdamW | strong | 300 epochs | single 79.84 | layer-wise 79.96',
    settings: { model: 'swin_tiny_patch4_window7_224', ...imagenetAdamw, batchSize: 256, accumulate: 4, lr: 1e-3, weightDecay: 0.05, dropPath: 0.2, epochs: 300, warmupEpochs: 20, aug: 'strong' },
    notes: [IMAGENET_WARMUP_NOTE, NO_DECAY_NOTE],
  },
  'resnet50_cifar-sgd': {
    name: 'resnet50_cifar-sgd', data: 'cifar100',
    description: 'ResNet-50 for 32 px (3x3 stem, no max-pool) on CIFAR-100, SGD, crop + flip, 200 epochs, batch 128',
    paperRow: 'the paper\'s CIFAR-100 ResNet-50 experiments',
    settings: { model: 'resnet50_cifar', optimizer: 'sgd', momentum: 0.9, batchSize: 128, accumulate: 1, lr: 0.1, weightDecay: 5e-4, epochs: 200, warmupEpochs: 1, schedule: 'cosine', transform: 'crop32-pad4,flip' },
    notes: ['the paper does not list its CIFAR hyperparameters in Table 5: the usual CIFAR ResNet recipe (lr 0.1, wd 5e-4, 200 epochs, batch 128) with one warmup epoch'],
  },
  'davidnet-sgd': {
    name: 'davidnet-sgd', data: 'cifar10',
    description: 'DavidNet (cifar10-fast ResNet-9) on CIFAR-10, SGD nesterov, crop + flip, 24 epochs, batch 512',
    paperRow: 'the paper\'s CIFAR-10 DavidNet experiments',
    settings: { model: 'davidnet', optimizer: 'sgd', momentum: 0.9, nesterov: true, batchSize: 512, accumulate: 1, lr: 0.4, weightDecay: 5e-4, epochs: 24, warmupEpochs: 5, schedule: 'cosine', transform: 'crop32-pad4,flip' },
    notes: ['cifar10-fast\'s settings (batch 512, peak lr 0.4, nesterov, wd 5e-4, 24 epochs, 5 warmup epochs); its linear decay and 8x8 cutout are replaced by cosine decay and no cutout'],
  },
};

export function recipeNames(): string[] {
  return Object.keys(RECIPES);
}

export function recipe(name: string): Recipe {
  const r = RECIPES[name];
  if (!r) throw new ArgumentError(`--recipe: unknown recipe '${name}' (available: ${recipeNames().join(', ')})`);
  return r;
}

/** The data kinds (--data prefixes) a recipe accepts: image folders for the ImageNet recipes. */
export function acceptedDataKinds(r: Recipe): string[] {
  return r.data === 'imagenet' ? ['imagenet', 'folder'] : [r.data];
}

/** Checks that --data fits the recipe; names the recipe and what it needs. */
export function checkRecipeData(r: Recipe, data: string | undefined): void {
  const kinds = acceptedDataKinds(r);
  const example = r.data === 'imagenet' ? 'imagenet:DIR (DIR/train/<class>/*.JPEG, DIR/val/...)' : `${r.data}:DIR`;
  if (data === undefined) throw new ArgumentError(`--recipe ${r.name} trains on ${r.data}: give --data ${example}`);
  const kind = data.includes(':') ? data.slice(0, data.indexOf(':')) : data;
  if (!kinds.includes(kind)) {
    throw new ArgumentError(`--recipe ${r.name} trains on ${r.data}, got --data ${data}; expected --data ${example}`);
  }
}

/** The recipe as aligned text (`layerwise recipes NAME`, `train --recipe NAME --help`). */
export function formatRecipe(r: Recipe): string {
  const lines = [`${r.name}: ${r.description}`, `  paper: ${r.paperRow}`, `  data: ${acceptedDataKinds(r).map((k) => `${k}:DIR`).join(' or ')}`];
  const width = Math.max(...Object.keys(r.settings).map((k) => optionSpelling(k).length));
  for (const [k, v] of Object.entries(r.settings)) lines.push(`  ${optionSpelling(k).padEnd(width)}  ${Array.isArray(v) ? v.join(',') : String(v)}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

function optionSpelling(key: string): string {
  if (key === 'noDecayNormBias') return '--wd-exclude-norm-bias';
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
