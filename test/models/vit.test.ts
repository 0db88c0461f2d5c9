// ViT (timm's VisionTransformer; src/models/vit.ts). Registry: vit_small_patch16_224 has timm's
// 22,050,664 parameters, 152 tensors with qkv fused (timm's state dict, names, order and shapes
// from the fixture's metadata) and 200 with q/k/v split. Parity at reduced size
// (test/fixtures/models/vit_small.safetensors, scripts/fixtures/gen-vit-fixtures.py: timm's
// VisionTransformer(img_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=3,
// num_classes=10), train mode, drop/drop-path 0): the timm state dict loads through
// QKV_SPLIT_MAPPING; float32 logits, loss and every gradient (timm's qkv gradient split into q, k,
// v) within 1e-4 relative to each tensor's max magnitude, except the key biases (zero gradient in
// exact arithmetic, rounding noise on both sides: both below 1e-5 (bf16: 2e-2) of the key weight
// gradient's max magnitude); bfloat16 autocast both sides: every
// element within 5e-2 * max|torch| + 5e-2 * |torch| and relative L2 <= 3e-2 (logits, loss),
// <= 6e-2 (gradients) as the CNN parity test; export --format timm equals the fixture's state
// dict exactly. Full size: one 224px batch of 2, forward + backward, NCHW and channels-last input.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { autocast } from '../../src/autocast';
import { F, Tensor, scope } from '../../src/index';
import { readSafetensors } from '../../src/io/safetensors';
import { saveStateDict } from '../../src/io/state-dict';
import { MODELS, createModel, vit } from '../../src/models';
import { QKV_SPLIT_MAPPING, exportStateDict, loadExternalState } from '../../src/models/weights';
import { exportWeights } from '../../src/cli/export';
import { FIXTURES, loadFixture, type Fixture } from '../helpers/fixtures';
import { expectBf16, expectRel, fixtureState, maxAbs } from '../helpers/model-parity';

const F32_REL = 1e-4;
const small = () => vit({ imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, numHeads: 3, numClasses: 10 });
const fx = loadFixture(path.join(FIXTURES, 'models', 'vit_small.safetensors'));

/** The fixture's gradient of one of our parameters: timm's fused qkv gradient split into q, k, v. */
function expectedGrad(prefix: string, name: string): Float32Array {
  const m = name.match(/^(.*)\.([qkv])\.(weight|bias)$/);
  if (!m) return fx.floats(`${prefix}.grad.${name}`);
  const fused = fx.floats(`${prefix}.grad.${m[1]}.qkv.${m[3]}`);
  const third = fused.length / 3;
  const i = 'qkv'.indexOf(m[2]);
  return fused.slice(i * third, (i + 1) * third);
}

/**
 * The key bias's gradient is zero in exact arithmetic (softmax ignores a per-query shift of the
 * logits): both sides hold rounding noise, compared against the scale of the key weight's gradient
 * instead (float32: <= 1e-5 of its max magnitude; bfloat16: <= 2e-2).
 */
function expectKeyBiasNoise(ours: ArrayLike<number>, prefix: string, name: string, rel: number): void {
  const scale = maxAbs(expectedGrad(prefix, name.replace(/bias$/, 'weight')));
  expect(maxAbs(ours), `${name}: ours`).toBeLessThanOrEqual(rel * scale);
  expect(maxAbs(expectedGrad(prefix, name)), `${name}: torch`).toBeLessThanOrEqual(rel * scale);
}

const KEY_BIAS = /\.attn\.k\.bias$/;

function runStep(bf16: boolean, channelsLast = false) {
  const model = small();
  loadExternalState(model, fixtureState(fx), QKV_SPLIT_MAPPING);
  model.train();
  const body = () => {
    let x = fx.tensor('in.x');
    if (channelsLast) x = x.to({ memoryFormat: 'channelsLast' });
    const out = model.call(x);
    return { logits: out, loss: F.crossEntropy(out, fx.tensor('in.labels')) };
  };
  const { logits, loss } = bf16 ? autocast({ dtype: 'bfloat16' }, body) : body();
  loss.backward();
  const grads = new Map(model.namedParameters().map(([n, p]) => [n, p.grad!.toArray() as Float32Array]));
  const result = { logits: logits.to({ dtype: 'float32' }).toArray() as Float32Array, loss: loss.item(), grads };
  model.dispose();
  return result;
}

describe('vit_small_patch16_224', () => {
  test('22,050,664 parameters; 200 tensors split, 152 fused; timm state-dict names, order and shapes after fusing', () =>
    scope(() => {
      const entry = MODELS.vit_small_patch16_224;
      expect(entry.mapping).toBe(QKV_SPLIT_MAPPING);
      expect([...entry.inputShape, entry.numClasses]).toEqual([3, 224, 224, 1000]);
      const model = createModel('vit_small_patch16_224', { inputShape: [3, 224, 224], numClasses: 1000 });
      expect(model.numParameters()).toBe(22_050_664);
      expect(JSON.parse(fx.metadata.full_numel)).toBe(22_050_664);
      const named = model.namedParameters();
      expect(named.length).toBe(200);
      const fused = exportStateDict(model.stateDict(), 'timm', entry.mapping);
      expect(fused.size).toBe(152);
      expect([...fused].map(([k, t]) => [k, [...t.shape]])).toEqual(JSON.parse(fx.metadata.full_names));
      for (const n of ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'blocks.0.norm1.weight', 'blocks.0.attn.q.weight',
        'blocks.0.attn.k.bias', 'blocks.0.mlp.fc1.weight', 'blocks.11.mlp.fc2.bias', 'norm.weight', 'head.weight']) {
        expect(named.some(([k]) => k === n), n).toBe(true);
      }
      const roles = new Map(named.map(([n, p]) => [n, p.role]));
      expect([roles.get('cls_token'), roles.get('pos_embed'), roles.get('patch_embed.proj.weight'), roles.get('blocks.0.norm1.bias')])
        .toEqual(['cls_token', 'pos_embed', 'weight', 'norm_shift']);
      const kBias = named.filter(([n]) => /\.attn\.k\.bias$/.test(n));
      expect([kBias.length, kBias.reduce((s, [, p]) => s + p.numel, 0)]).toEqual([12, 4608]);
      for (const [k, t] of fused) if (k.includes('.qkv.')) t.dispose();
      model.dispose();
    }));

  test('--drop / --drop-path: head dropout and drop-path rates rising linearly 0 .. rate over the 12 blocks', () =>
    scope(() => {
      const model = createModel('vit_small_patch16_224', { inputShape: [3, 224, 224], numClasses: 10, drop: 0.1, dropPath: 0.1 });
      const rates = [...model.namedModules()].filter(([n]) => /^blocks\.\d+\.drop_path$/.test(n)).map(([, m]) => (m as unknown as { p: number }).p);
      expect(rates.length).toBe(12);
      rates.forEach((r, i) => expect(r).toBeCloseTo((0.1 * i) / 11, 12));
      const heads = [...model.namedModules()].filter(([n]) => n === 'head_drop').map(([, m]) => (m as unknown as { p: number }).p);
      expect(heads).toEqual([0.1]);
      model.dispose();
    }));
});

describe('vit_small (timm VisionTransformer at reduced size)', () => {
  test('parameter names and count are timm\'s with qkv split', () =>
    scope(() => {
      const model = small();
      const timmNames = (JSON.parse(fx.metadata.params) as string[]).flatMap((n) => {
        const m = n.match(/^(.*)\.qkv\.(weight|bias)$/);
        return m ? ['q', 'k', 'v'].map((p) => `${m[1]}.${p}.${m[2]}`) : [n];
      });
      // ours lists q.weight, q.bias, k.weight, ... (one Linear each); timm qkv.weight, qkv.bias
      expect(model.namedParameters().map(([n]) => n).sort()).toEqual(timmNames.sort());
      expect(model.numParameters()).toBe(JSON.parse(fx.metadata.numel));
      expect(model.namedBuffers()).toEqual([]);
      model.dispose();
    }));

  test.each([false, true])(`float32 train step (channels-last input: %s): logits, loss, every gradient within ${F32_REL} relative`, (cl) =>
    scope(() => {
      const r = runStep(false, cl);
      expectRel(r.logits, fx.floats('f32.logits'), 'logits');
      expectRel([r.loss], fx.floats('f32.loss'), 'loss');
      for (const [n, g] of r.grads) {
        if (KEY_BIAS.test(n)) expectKeyBiasNoise(g, 'f32', n, 1e-5);
        else expectRel(g, expectedGrad('f32', n), `grad.${n}`);
      }
    }));

  test('bfloat16 autocast train step: within the bf16 bounds', () =>
    scope(() => {
      const r = runStep(true);
      expectBf16(r.logits, fx.floats('bf16.logits'), 'logits');
      expectBf16([r.loss], fx.floats('bf16.loss'), 'loss');
      for (const [n, g] of r.grads) {
        if (KEY_BIAS.test(n)) expectKeyBiasNoise(g, 'bf16', n, 2e-2);
        else expectBf16(g, expectedGrad('bf16', n), `grad.${n}`, 6e-2);
      }
    }));

  test('export --format timm writes the timm state dict exactly (qkv fused again)', () =>
    scope(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-export-'));
      try {
        const model = small();
        loadExternalState(model, fixtureState(fx), QKV_SPLIT_MAPPING);
        const ours = path.join(dir, 'ours.safetensors');
        saveStateDict(ours, model.stateDict());
        model.dispose();
        const out = path.join(dir, 'timm.safetensors');
        exportWeights(ours, 'timm', out, 'vit_small_patch16_224');
        const back = readSafetensors(out).tensors;
        const expected = [...fx.entries].filter(([k]) => k.startsWith('state.'));
        expect([...back.keys()].sort()).toEqual(expected.map(([k]) => k.slice(6)).sort());
        for (const [k, e] of expected) {
          const got = back.get(k.slice(6))!;
          expect(got.dtype, k).toBe(e.dtype);
          expect(got.shape, k).toEqual(e.shape);
          expect(Buffer.from(got.data).equals(Buffer.from(e.data)), `${k} bytes`).toBe(true);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }));
});
