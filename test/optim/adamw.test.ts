// AdamW against torch.optim.AdamW (betas (0.9, 0.999), eps 1e-8, wd 0.05; fixture from
// scripts/fixtures/gen-optim-fixtures.py): weights after each of 10 steps with per-group
// lr = eta_i * lr as param groups or through setEta, the final state dict (step, exp_avg,
// exp_avg_sq) against torch's, per-parameter step counts, and state-dict round trips (direct and
// through safetensors + JSON) bit-identical to a continuous run.
import { describe, expect, it } from 'vitest';
import { StateDictError } from '../../src/errors';
import type { Parameter } from '../../src/nn/parameter';
import { AdamW } from '../../src/optim/adamw';
import type { ParamsInput } from '../../src/optim/optimizer';
import type { OptimizerStateJSON } from '../../src/optim/state';
import { expectClose } from '../helpers/compare';
import { build, disposeAll, loadCase, makeParams, run, setGrads, values, viaCheckpoint, type OptimCase } from './optim-fixture';

// Parity tolerance: |w - w_torch| <= 1e-5 * |w_torch| + 1e-7 after every step (PyTorch's sqrt is
// not always correctly rounded, ours is, so weights may differ by an ulp; the atol covers weights
// that pass through zero). The moments get the same tolerance.
const TOL = { rtol: 1e-5, atol: 1e-7 };

function adamw(c: OptimCase) {
  return (groups: ParamsInput, lr: number, weightDecay: number): AdamW =>
    new AdamW(groups, { lr, weightDecay, betas: c.options.betas as [number, number], eps: c.options.eps as number });
}

function setup(layout: 'groups' | 'eta' = 'groups'): { c: OptimCase; params: Parameter[]; opt: AdamW } {
  const c = loadCase('adamw');
  const params = makeParams(c);
  return { c, params, opt: build(c, params, layout, adamw(c)) };
}

describe('AdamW parity with torch.optim.AdamW: adamw (betas 0.9/0.999, eps 1e-8, wd 0.05, one group wd 0)', () => {
  for (const layout of ['groups', 'eta'] as const) {
    const how = layout === 'groups' ? 'lr_i = eta_i * lr as param groups' : 'eta_i via setEta, decay/no-decay groups';
    it(`weights after each of 10 steps, ${how} (rtol 1e-5)`, () => {
      const { c, params, opt } = setup(layout);
      run(c, opt, params, 0, c.steps, (s) => {
        params.forEach((p, i) => expectClose(p.toArray(), c.fx.floats(`after.${s}.${i}`), TOL, `step ${s} tensor ${i}`));
      });
      disposeAll(opt, params);
    });
  }

  it("stateDict after 10 steps has torch's keys, indices, steps, hyperparameters and moments (rtol 1e-5)", () => {
    const { c, params, opt } = setup();
    run(c, opt, params, 0, c.steps);
    const sd = opt.stateDict();
    expect([...sd.state.keys()]).toEqual([0, 1, 2]);
    for (const [i, s] of sd.state) {
      expect(Object.keys(s).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'step']);
      expect(s.step).toBe(c.stateSteps[String(i)]);
      expectClose(s.exp_avg.toArray(), c.fx.floats(`state.${i}.exp_avg`), TOL, `state.${i}.exp_avg`);
      expectClose(s.exp_avg_sq.toArray(), c.fx.floats(`state.${i}.exp_avg_sq`), TOL, `state.${i}.exp_avg_sq`);
    }
    sd.param_groups.forEach((g, gi) => {
      const t = c.paramGroups[gi];
      expect(g.params).toEqual(t.params);
      for (const key of ['lr', 'weight_decay', 'betas', 'eps'] as const) expect(g[key], key).toEqual(t[key]);
    });
    disposeAll(opt, params);
  });

  for (const via of ['direct', 'safetensors + JSON'] as const) {
    it(`save after 5 steps, load into a fresh optimizer (${via}), 5 more steps: bit-identical to 10 continuous`, () => {
      const cont = setup('eta');
      run(cont.c, cont.opt, cont.params, 0, 10);
      const expected = values(cont.params);
      disposeAll(cont.opt, cont.params);

      const first = setup('eta');
      run(first.c, first.opt, first.params, 0, 5);
      const second = setup('eta');
      second.params.forEach((p, i) => p.copyFromHost(first.params[i].toArray() as Float32Array));
      if (via === 'direct') second.opt.loadStateDict(first.opt.stateDict());
      else {
        const ck = viaCheckpoint(first.opt.stateDict());
        expect(ck.names).toEqual(['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.1.exp_avg', 'state.1.exp_avg_sq', 'state.2.exp_avg', 'state.2.exp_avg_sq']);
        const rest = JSON.parse(ck.json) as OptimizerStateJSON;
        expect(rest.state).toEqual({ 0: { step: 5 }, 1: { step: 5 }, 2: { step: 5 } });
        expect(rest.param_groups.map((g) => g.params)).toEqual([[0, 1], [2]]);
        second.opt.loadStateDict(ck.sd);
        ck.dispose();
      }
      disposeAll(first.opt, first.params);
      run(second.c, second.opt, second.params, 5, 10);
      values(second.params).forEach((v, i) => expect(v, `tensor ${i}`).toEqual(expected[i]));
      disposeAll(second.opt, second.params);
    });
  }
});

describe('AdamW per-parameter step', () => {
  // Tensor 1 gets no gradient on steps 1 and 3: its step count (and bias correction) lags.
  const SKIP = new Map([[1, new Set([1])], [3, new Set([1])]]);
  function runSkipping(c: OptimCase, opt: AdamW, params: Parameter[], from: number, to: number): void {
    for (let s = from; s < to; s++) {
      setGrads(c, params, s, SKIP.get(s));
      opt.step();
    }
  }

  it('counts steps per tensor, as PyTorch; the counts survive a round trip and the run stays bit-identical', () => {
    const cont = setup();
    runSkipping(cont.c, cont.opt, cont.params, 0, 8);
    const expected = values(cont.params);
    disposeAll(cont.opt, cont.params);

    const first = setup();
    runSkipping(first.c, first.opt, first.params, 0, 4);
    const sd = first.opt.stateDict();
    expect([...sd.state].map(([i, s]) => [i, s.step])).toEqual([[0, 4], [1, 2], [2, 4]]);
    const second = setup();
    second.params.forEach((p, i) => p.copyFromHost(first.params[i].toArray() as Float32Array));
    const ck = viaCheckpoint(sd);
    second.opt.loadStateDict(ck.sd);
    ck.dispose();
    disposeAll(first.opt, first.params);
    runSkipping(second.c, second.opt, second.params, 4, 8);
    values(second.params).forEach((v, i) => expect(v, `tensor ${i}`).toEqual(expected[i]));
    disposeAll(second.opt, second.params);
  });

  it('loadStateDict names bad steps, a missing moment and a betas mismatch', () => {
    const { c, params, opt } = setup();
    run(c, opt, params, 0, 1);
    const sd = opt.stateDict();
    const other = new AdamW(params, { betas: [0.8, 0.999] });
    let err: StateDictError | undefined;
    try {
      other.loadStateDict({
        param_groups: [{ ...sd.param_groups[0], params: [0, 1, 2] }],
        state: new Map([[0, { ...sd.state.get(0)!, step: 1.5 }], [1, { step: 1, exp_avg: sd.state.get(1)!.exp_avg }]]),
      });
    } catch (e) {
      err = e as StateDictError;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect(err?.message).toMatch(/^AdamW\.loadStateDict: /);
    expect(err?.problems).toEqual([
      'param_groups[0].betas is [0.9,0.999], the optimizer has [0.8,0.999] (fixed at construction)',
      'state for index 0: step must be an integer >= 0, got 1.5',
      'state for index 1: missing exp_avg_sq',
    ]);
    disposeAll(opt, params);
    other.dispose();
  });
});
