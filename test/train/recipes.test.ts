// The paper's recipes (src/train/recipes.ts, `train --recipe NAME`): every recipe's settings are
// real config keys that validate, explicit options override a recipe, --data must fit it, and each
// recipe trains for two optimizer steps through the command line on generated data at a reduced
// resolution (image folders at 64 px, Swin-T at 224 px as its windows need; CIFAR files at 32 px),
// with the recipe's model, optimizer, augmentation and regularization.
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../../src/train/config';
import { RECIPES, checkRecipeData, recipe } from '../../src/train/recipes';
import { runCli } from '../helpers/cli';
import { tempDir, writeClassTree } from '../helpers/image-tree';
import { cifarBytes, pixelBytes, writeFile } from '../data/formats';

const root = tempDir('lw-recipes-');
const imagenet = path.join(root, 'imagenet');
const cifar10 = path.join(root, 'cifar10');
const cifar100 = path.join(root, 'cifar100');

beforeAll(async () => {
  const classes = ['n01440764', 'n01443537', 'n01484850'];
  await writeClassTree(path.join(imagenet, 'train'), classes, 6, 80, 60);
  await writeClassTree(path.join(imagenet, 'val'), classes, 2, 80, 60);
  const records = (n: number, k: number, fine: boolean) => cifarBytes(
    Array.from({ length: n }, (_, i) => (fine ? [i % 20, i % k] : [i % k])), pixelBytes(n * 3072, n));
  for (let b = 1; b <= 5; b++) writeFile(cifar10, `data_batch_${b}.bin`, records(8, 10, false));
  writeFile(cifar10, 'test_batch.bin', records(8, 10, false));
  writeFile(cifar100, 'train.bin', records(16, 100, true));
  writeFile(cifar100, 'test.bin', records(8, 100, true));
  mkdirSync(path.join(root, 'runs'), { recursive: true });
});

const dataFor = (name: string) => ({ imagenet: `imagenet:${imagenet}`, cifar10: `cifar10:${cifar10}`, cifar100: `cifar100:${cifar100}` })[recipe(name).data];

describe('recipes', () => {
  test('every setting of every recipe is a config key, and each recipe resolves to a valid config', () => {
    for (const r of Object.values(RECIPES)) {
      const unknown = Object.keys(r.settings).filter((k) => !(k in DEFAULT_CONFIG));
      expect(unknown, r.name).toEqual([]);
      const c = resolveConfig({}, { data: dataFor(r.name) }, { ...(r.settings as Partial<TrainConfig>), recipe: r.name });
      expect(c.recipe).toBe(r.name);
      for (const [k, v] of Object.entries(r.settings)) expect(c[k as keyof TrainConfig], `${r.name} ${k}`).toEqual(v);
    }
  });

  test('the paper\'s Table 5 values: effective batches, learning rates, weight decay, regularization', () => {
    const eff = (n: string) => (recipe(n).settings.batchSize as number) * (recipe(n).settings.accumulate as number);
    expect([eff('resnet50-sgd-basic'), eff('resnet50-adamw-basic'), eff('convnext_tiny-adamw-strong'), eff('vit_small-sgd-basic'), eff('swin_tiny-adamw-strong')])
      .toEqual([256, 1024, 4096, 4096, 1024]);
    expect(recipe('resnet50-adamw-basic').settings).toMatchObject({ optimizer: 'adamw', lr: 3e-3, weightDecay: 0.1, epochs: 90 });
    expect(recipe('convnext_tiny-adamw-strong').settings).toMatchObject({ lr: 4e-3, weightDecay: 0.05, dropPath: 0.1, aug: 'strong' });
    expect(recipe('vit_small-adamw-basic').settings).toMatchObject({ lr: 1e-2, weightDecay: 0.1, drop: 0.1, dropPath: 0.1, aug: 'basic' });
    expect(recipe('swin_tiny-adamw-strong').settings).toMatchObject({ lr: 1e-3, weightDecay: 0.05, dropPath: 0.2, aug: 'strong' });
  });

  test('an explicit option (or a config file setting) overrides the recipe', () => {
    const r = recipe('resnet50-sgd-basic');
    const c = resolveConfig({ epochs: 3 }, { lr: 0.2, data: dataFor(r.name) }, r.settings as Partial<TrainConfig>);
    expect([c.lr, c.epochs, c.weightDecay]).toEqual([0.2, 3, 1e-4]);
  });

  test('--data must be of the recipe\'s kind, and the error says what it needs', () => {
    expect(() => checkRecipeData(recipe('davidnet-sgd'), undefined)).toThrow(/davidnet-sgd trains on cifar10: give --data cifar10:DIR/);
    expect(() => checkRecipeData(recipe('resnet50-sgd-basic'), 'cifar10:/x')).toThrow(/expected --data imagenet:DIR/);
    expect(() => checkRecipeData(recipe('resnet50-sgd-basic'), 'folder:/x')).not.toThrow();
    const r = runCli(['train', '--recipe', 'vit_small-sgd-basic']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--recipe vit_small-sgd-basic trains on imagenet/);
  });

  test('layerwise recipes lists every recipe with its settings', () => {
    const r = runCli(['recipes', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => JSON.parse(l).name);
    expect(names).toEqual(Object.keys(RECIPES));
  });

  for (const name of Object.keys(RECIPES)) {
    test(`${name}: two optimizer steps through the command line on generated data`, () => {
      const size = recipe(name).data !== 'imagenet' ? [] : ['--image-size', name.startsWith('swin') ? '224' : '64', '--workers', '1'];
      const r = runCli(['train', '--recipe', name, '--data', dataFor(name), ...size, '--batch-size', '4', '--accumulate', '2',
        '--max-steps', '2', '--probe-steps', '1', '--eval-batch-size', '8', '--json', '--out-dir', path.join(root, 'runs'), '--name', name]);
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const config = JSON.parse(readFileSync(path.join(root, 'runs', name, 'config.json'), 'utf8'));
      const s = recipe(name).settings;
      expect(config).toMatchObject({ recipe: name, model: s.model, optimizer: s.optimizer, lr: s.lr, weightDecay: s.weightDecay, batchSize: 4, accumulate: 2 });
      const summary = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.kind === 'summary');
      expect(summary.steps).toBe(2);
    }, 600_000);
  }
});
