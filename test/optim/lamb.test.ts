// LAMB (src/optim/lamb.ts) against docs/method.md section 5.2's formula in float64 torch (fixture from
// scripts/fixtures/gen-baseline-fixtures.py): weights after each of 5 steps with lr_i = eta_i * lr
// as groups or through setEta, the final exp_avg / exp_avg_sq / step, state-dict round trips
// bit-identical to a continuous run, the trust ratio by hand, and loadStateDict's validation.
import { describe, expect, it } from 'vitest';
import { StateDictError } from '../../src/errors';
import { memory } from '../../src/memory';
import { Parameter } from '../../src/nn/parameter';
import { LAMB } from '../../src/optim/lamb';
import type { ParamsInput } from '../../src/optim/optimizer';
import { Tensor } from '../../src/tensor';
import { checkParity, checkResume, loadBaseline, setup, type Make } from './baseline-fixture';
import { disposeAll, run } from './optim-fixture';

function lamb(): Make {
  const o = loadBaseline('lamb').options;
  return (groups: ParamsInput, lr: number, weightDecay: number) => new LAMB(groups, { lr, weightDecay, betas: o.betas as [number, number], eps: o.eps as number });
}

describe('LAMB parity with the float64 reference', () => {
  for (const layout of ['groups', 'eta'] as const) {
    it(`lamb: weights after each of 5 steps and the final state, ${layout === 'groups' ? 'lr_i = eta_i * lr as groups' : 'eta via setEta'} (rtol 1e-5, atol 1e-7)`, () => {
      checkParity('lamb', layout, lamb());
    });
  }
  for (const via of ['direct', 'safetensors + JSON'] as const) {
    it(`lamb: save after 2 steps, load into a fresh optimizer (${via}), 3 more: bit-identical to 5 continuous`, () => {
      checkResume('lamb', lamb(), via);
    });
  }
});

describe('LAMB rules', () => {
  it('by hand, first step of a weight: r = sign(g)/(1+eps) + wd*w, w -= lr*(||w||/||r||)*r (rtol 1e-6)', () => {
    const p = new Parameter([2], 'weight');
    p.copyFromHost(Float32Array.from([3, 4]));
    p.grad = Tensor.fromArray([0.5, -2], [2]);
    const opt = new LAMB([p], { lr: 0.1, weightDecay: 0.5, eps: 1e-6 });
    opt.step();
    // m_hat = g, v_hat = g^2 on the first step, so m_hat/(sqrt(v_hat)+eps) = g/(|g|+eps).
    const r = [0.5 / (0.5 + 1e-6) + 0.5 * 3, -2 / (2 + 1e-6) + 0.5 * 4];
    const ratio = 5 / Math.hypot(...r);
    const expected = [3 - 0.1 * ratio * r[0], 4 - 0.1 * ratio * r[1]];
    const out = p.toArray();
    out.forEach((v, i) => expect(Math.abs(v - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-6));
    disposeAll(opt, [p]);
  });

  it('a bias gets no weight decay: first step w -= lr*(||w||/||r||)*r with r = g/(|g|+eps) (rtol 1e-6)', () => {
    const p = new Parameter([2], 'bias');
    p.copyFromHost(Float32Array.from([3, 4]));
    p.grad = Tensor.fromArray([0.5, -2], [2]);
    const opt = new LAMB([p], { lr: 0.1, weightDecay: 0.5, eps: 1e-6 });
    opt.step();
    const r = [0.5 / (0.5 + 1e-6), -2 / (2 + 1e-6)];
    const ratio = 5 / Math.hypot(...r);
    const expected = [3 - 0.1 * ratio * r[0], 4 - 0.1 * ratio * r[1]];
    p.toArray().forEach((v, i) => expect(Math.abs(v - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-6));
    disposeAll(opt, [p]);
  });

  it('ratio 1 while ||w|| = 0: a zero weight steps w = -lr*r on its first step (rtol 1e-6)', () => {
    const p = new Parameter([2], 'weight');
    p.copyFromHost(Float32Array.from([0, 0]));
    p.grad = Tensor.fromArray([0.5, -2], [2]);
    const opt = new LAMB([p], { lr: 0.1, weightDecay: 0.5, eps: 1e-6 });
    opt.step();
    const expected = [-0.1 * (0.5 / (0.5 + 1e-6)), 0.1 * (2 / (2 + 1e-6))];
    p.toArray().forEach((v, i) => expect(Math.abs(v - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-6));
    disposeAll(opt, [p]);
  });

  it('stateDict has AdamW\'s keys (step, exp_avg, exp_avg_sq; betas, eps per group); buffers flat over 20 loads', () => {
    const { c, params, opt } = setup('lamb', 'eta', lamb());
    run(c, opt, params, 0, 2);
    const sd = opt.stateDict();
    expect([...sd.state.keys()]).toEqual([0, 1, 2]);
    expect(Object.keys(sd.state.get(0)!).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'step']);
    expect(sd.state.get(2)!.step).toBe(2);
    expect(sd.param_groups[0]).toMatchObject({ lr: 1e-2, weight_decay: 1.5, betas: [0.9, 0.999], eps: 1e-6, params: [0, 1, 2] });
    const start = memory().liveBuffers;
    for (let k = 0; k < 20; k++) opt.loadStateDict(opt.stateDict());
    expect(memory().liveBuffers).toBe(start);
    disposeAll(opt, params);
  });

  it('loadStateDict names a shape mismatch and a wrong beta, and changes nothing', () => {
    const { c, params, opt: built } = setup('lamb', 'eta', lamb());
    const opt = built as LAMB;
    run(c, opt, params, 0, 2);
    const sd = opt.stateDict();
    const before = opt.state.get(params[0])!.expAvg.toArray();
    const wrong = Tensor.zeros([3]);
    const bad = {
      param_groups: [{ ...sd.param_groups[0], betas: [0.8, 0.999] }],
      state: new Map([...sd.state, [0, { ...sd.state.get(0)!, exp_avg: wrong }]]),
    };
    let err: StateDictError | undefined;
    try {
      opt.loadStateDict(bad);
    } catch (e) {
      err = e as StateDictError;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect(err!.message).toMatch(/^LAMB\.loadStateDict: /);
    expect(err!.problems).toEqual([
      'param_groups[0].betas is [0.8,0.999], the optimizer has [0.9,0.999] (fixed at construction)',
      'state for index 0: exp_avg has shape [3], the parameter has shape [5, 4]',
    ]);
    expect(opt.state.get(params[0])!.expAvg.toArray()).toEqual(before);
    wrong.dispose();
    disposeAll(opt, params);
  });

  it('options are checked and named', () => {
    const p = new Parameter([2], 'weight');
    expect(() => new LAMB([p], { betas: [1, 0.999] })).toThrow(/LAMB: invalid beta 1/);
    expect(() => new LAMB([p], { eps: -1 })).toThrow(/LAMB: invalid eps -1/);
    p.dispose();
  });
});
