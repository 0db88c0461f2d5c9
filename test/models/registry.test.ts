// The model registry as `layerwise models` lists it: the exact parameter counts and tensor counts
// of the paper's CNNs (resnet50 25,557,032 / 161, resnet50_cifar 23,705,252 / 161, davidnet
// 6,573,120 / 25), resnet50's state dict equal in names, order, shapes to torchvision's (and timm's,
// test/fixtures/models/names.json), the head sized by the data or --num-classes, the paper init's
// roles, and weight-loading errors that say which keys do not fit.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { modelInfo } from '../../src/cli/models';
import { StateDictError } from '../../src/errors';
import { Tensor, scope } from '../../src/index';
import { MODELS, createModel, modelEntry } from '../../src/models';
import { loadExternalState } from '../../src/models/weights';
import { paperInit_ } from '../../src/nn/init';
import { resolveConfig } from '../../src/train/config';
import { buildData, buildModel } from '../../src/train/setup';
import { runCli } from '../helpers/cli';
import { FIXTURES } from '../helpers/fixtures';

const NAMES = JSON.parse(readFileSync(path.join(FIXTURES, 'models', 'names.json'), 'utf8'));

const EXPECTED: Record<string, [number, number]> = {
  resnet50: [25_557_032, 161],
  resnet50_cifar: [23_705_252, 161],
  davidnet: [6_573_120, 25],
};

describe('model registry', () => {
  test.each(Object.entries(EXPECTED))('%s has exactly the paper\'s parameter count and tensor count', (name, [params, tensors]) =>
    scope(() => {
      const info = modelInfo(name, MODELS[name]);
      expect(info.params).toBe(params);
      expect(info.tensors).toBe(tensors);
    }));

  test('torchvision/timm resnet50 and cifar10-fast DavidNet: the same state-dict names, order and shapes', () =>
    scope(() => {
      expect(NAMES.resnet50_params).toBe(25_557_032);
      expect(NAMES.davidnet_params).toBe(6_573_120);
      expect(NAMES.timm_resnet50_same_shapes).toBe(true);
      for (const [model, key] of [['resnet50', 'torchvision_resnet50'], ['davidnet', 'davidnet_names']] as const) {
        const m = createModel(model, { inputShape: MODELS[model].inputShape, numClasses: MODELS[model].numClasses });
        const ours = [...m.stateDict()].map(([k, t]) => [k, t.shape, t.dtype === 'int32' ? 'int64' : t.dtype]);
        expect(ours).toEqual(NAMES[key]);
        m.dispose();
      }
    }));

  test('`layerwise models --json` lists every model with its counts (mlp, cnn, cnn3 too)', () => {
    const r = runCli(['models', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.name)).toEqual(Object.keys(MODELS));
    for (const n of ['mlp', 'cnn', 'cnn3']) expect(rows.find((x) => x.name === n)!.params).toBeGreaterThan(0);
    for (const [n, [p, t]] of Object.entries(EXPECTED)) expect(rows.find((x) => x.name === n)).toMatchObject({ params: p, tensors: t });
    const table = runCli(['models']);
    expect(table.stdout).toMatch(/resnet50 +25,557,032 +161/);
  });

  test('--model resnet50 on a 10-class set gets a 10-way head; --num-classes overrides', () =>
    scope(() => {
      for (const [numClasses, expected] of [[null, 10], [7, 7]] as const) {
        const config = resolveConfig({}, { model: 'resnet50', data: 'synthetic:4:3x32x32:10', numClasses });
        const data = buildData(config);
        const model = buildModel(config, data);
        expect(model.stateDict().get('fc.weight')!.shape).toEqual([expected, 2048]);
        model.dispose();
      }
      expect(() => resolveConfig({}, { numClasses: 0 })).toThrow(/--num-classes/);
    }));

  test('every parameter has a role the paper init knows (weights, norm scale/shift, bias)', () =>
    scope(() => {
      for (const name of ['resnet50_cifar', 'davidnet']) {
        const m = createModel(name, { inputShape: MODELS[name].inputShape, numClasses: MODELS[name].numClasses });
        const roles = new Set(m.parameters().map((p) => p.role));
        expect([...roles].every((r) => ['weight', 'norm_scale', 'norm_shift', 'bias'].includes(r))).toBe(true);
        expect(() => paperInit_(m.parameters(), { seed: 0 })).not.toThrow();
        m.dispose();
      }
    }));

  test('loading a state dict with extra and missing keys names them and counts them', () =>
    scope(() => {
      const m = createModel('davidnet', { inputShape: [3, 32, 32], numClasses: 10 });
      const state = new Map(m.stateDict());
      state.delete('linear.weight');
      state.set('module.fc.bias', Tensor.zeros([10]));
      let error: unknown;
      try {
        loadExternalState(m, state, modelEntry('davidnet').mapping);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StateDictError);
      const msg = (error as Error).message;
      expect(msg).toContain('1 key(s) in the file that DavidNet does not have (e.g. module.fc.bias)');
      expect(msg).toContain("1 of the model's key(s) missing from the file (e.g. linear.weight)");
      expect(msg).toContain("'module.'");
      expect(msg).toContain('unexpected key: module.fc.bias');
      m.dispose();
    }));
});
