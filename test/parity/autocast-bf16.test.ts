// PyTorch parity under mixed precision: the default small CNN (smallCnn(1, 16, 10, hidden 16), train
// mode) forward and backward inside autocast({ dtype: 'bfloat16' }) against
// torch.autocast('cpu', dtype=torch.bfloat16) (test/fixtures/amp/cnn_small_autocast_bf16.safetensors,
// scripts/fixtures/gen-amp-fixtures.py). Both sides round to bfloat16 at every conv/linear and
// between layers, but not at exactly the same places inside the kernels (oneDNN vs ours), so values
// differ by a few bfloat16 ulps (2^-8 relative). Tolerances per tensor: relative L2 error
// ||ours - torch|| / ||torch|| <= 3e-2, and every element within 5e-2 * max|torch| + 5e-2 * |torch|.
// The same step in channels-last memory format must equal the NCHW one to float rounding of the
// layout change (relative L2 1e-2: reordered bf16 sums).
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { autocast } from '../../src/autocast';
import { F, Tensor, scope } from '../../src/index';
import { smallCnn } from '../../src/models/cnn';
import type { Module } from '../../src/nn/module';
import { FIXTURES, loadFixture, type Fixture } from '../helpers/fixtures';

function relL2(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < e.length; i++) {
    num += (a[i] - e[i]) ** 2;
    den += e[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, l2 = 3e-2): void {
  expect(actual.length, what).toBe(expected.length);
  let peak = 0;
  for (let i = 0; i < expected.length; i++) peak = Math.max(peak, Math.abs(expected[i]));
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (5e-2 * peak + 5e-2 * Math.abs(expected[i]));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  const err = relL2(actual, expected);
  expect(worst, `${what}: element ${worst} got ${actual[worst]} expected ${expected[worst]} (max |expected| ${peak}); rel L2 ${err}`).toBe(-1);
  expect(err, `${what}: relative L2 error`).toBeLessThanOrEqual(l2);
}

function loadModel(fx: Fixture): Module {
  const model = smallCnn(1, 16, 10, 16);
  const state = new Map<string, Tensor>();
  for (const n of JSON.parse(fx.metadata.params) as string[]) state.set(n, fx.tensor(`param.${n}`));
  for (const n of JSON.parse(fx.metadata.buffers) as string[]) state.set(n, fx.tensor(`buffer.${n}`));
  model.loadStateDict(state);
  return model;
}

function step(fx: Fixture, channelsLast: boolean) {
  const model = loadModel(fx);
  if (channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const { logits, loss } = autocast({ dtype: 'bfloat16' }, () => {
    const out = model.call(fx.tensor('in.x'));
    return { logits: out, loss: F.crossEntropy(out, fx.tensor('in.labels')) };
  });
  loss.backward();
  const grads = new Map(model.namedParameters().map(([n, p]) => [n, { dtype: p.grad!.dtype, values: p.grad!.toArray() }]));
  const buffers = new Map([...model.stateDict()].filter(([n]) => n.includes('running')).map(([n, t]) => [n, t.toArray()]));
  const result = { logitsDtype: logits.dtype, lossDtype: loss.dtype, logits: logits.toArray(), loss: loss.item(), grads, buffers };
  model.dispose();
  return result;
}

describe('autocast bfloat16: small CNN against torch.autocast(cpu, bfloat16)', () => {
  const fx = loadFixture(path.join(FIXTURES, 'amp', 'cnn_small_autocast_bf16.safetensors'));

  test('logits (bfloat16), loss (float32), every gradient (float32) and running stats match PyTorch', () =>
    scope(() => {
      const r = step(fx, false);
      expect(r.logitsDtype).toBe('bfloat16');
      expect(fx.metadata.logits_dtype).toBe('torch.bfloat16');
      expect(r.lossDtype).toBe('float32');
      expectNear(r.logits, fx.floats('out'), 'logits');
      expectNear([r.loss], fx.floats('loss'), 'loss', 1e-2);
      for (const [n, g] of r.grads) {
        expect(g.dtype, n).toBe('float32');
        expectNear(g.values, fx.floats(`grad.${n}`), `grad.${n}`);
      }
      for (const [n, b] of r.buffers) expectNear(b, fx.floats(`after.${n}`), `after.${n}`, 1e-2);
    }));

  test('channels-last gives the NCHW results within the rounding of reordered bfloat16 sums', () =>
    scope(() => {
      const a = step(fx, false);
      const b = step(fx, true);
      expectNear(b.logits, a.logits, 'logits NHWC vs NCHW', 1e-2);
      for (const [n, g] of a.grads) expectNear(b.grads.get(n)!.values, g.values, `grad.${n} NHWC vs NCHW`, 1e-2);
    }));
});
