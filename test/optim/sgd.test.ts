// SGD against torch.optim.SGD (fixtures from scripts/fixtures/gen-optim-fixtures.py): weights after
// each of 10 steps with per-group lr = eta_i * lr given as param groups or through setEta, the
// final state dict against torch's, state-dict round trips (direct and through safetensors + JSON)
// bit-identical to a continuous run, and loadStateDict's validation and memory behaviour.
import { describe, expect, it } from 'vitest';
import { StateDictError } from '../../src/errors';
import { memory } from '../../src/memory';
import type { Parameter } from '../../src/nn/parameter';
import type { ParamsInput } from '../../src/optim/optimizer';
import { SGD, type SGDOptions } from '../../src/optim/sgd';
import { optimizerStateFromTensors, type OptimizerStateDict, type SGDStateDict } from '../../src/optim/state';
import { Tensor } from '../../src/tensor';
import { expectClose } from '../helpers/compare';
import { build, disposeAll, loadCase, makeParams, run, values, viaCheckpoint, type OptimCase } from './optim-fixture';

// Parity tolerance: |w - w_torch| <= 1e-5 * |w_torch| + 1e-7 after every step (the kernel follows
// torch's float32 operations; the atol only covers weights that pass through zero).
const TOL = { rtol: 1e-5, atol: 1e-7 };

const CASES = ['sgd_plain', 'sgd_momentum', 'sgd_nesterov', 'sgd_momentum_dampening_wd'];

function sgd(c: OptimCase) {
  return (groups: ParamsInput, lr: number, weightDecay: number): SGD => {
    const o = c.options;
    const options: SGDOptions = { lr, weightDecay, momentum: o.momentum as number | undefined, dampening: o.dampening as number | undefined, nesterov: o.nesterov as boolean | undefined };
    return new SGD(groups, options);
  };
}

function setup(name: string, layout: 'groups' | 'eta' = 'groups'): { c: OptimCase; params: Parameter[]; opt: SGD } {
  const c = loadCase(name);
  const params = makeParams(c);
  return { c, params, opt: build(c, params, layout, sgd(c)) };
}

describe.each(CASES)('SGD parity with torch.optim.SGD: %s', (name) => {
  for (const layout of ['groups', 'eta'] as const) {
    const how = layout === 'groups' ? 'lr_i = eta_i * lr as param groups' : 'eta_i via setEta, decay/no-decay groups';
    it(`${name}: weights after each of 10 steps, ${how} (rtol 1e-5)`, () => {
      const { c, params, opt } = setup(name, layout);
      run(c, opt, params, 0, c.steps, (s) => {
        params.forEach((p, i) => expectClose(p.toArray(), c.fx.floats(`after.${s}.${i}`), TOL, `step ${s} tensor ${i}`));
      });
      disposeAll(opt, params);
    });
  }

  it(`${name}: stateDict after 10 steps has torch's keys, indices, hyperparameters and momentum buffers (rtol 1e-5)`, () => {
    const { c, params, opt } = setup(name);
    run(c, opt, params, 0, c.steps);
    const sd = opt.stateDict();
    const torchState = [...c.fx.entries.keys()].filter((k) => k.startsWith('state.')).sort();
    const ours = [...sd.state].flatMap(([i, s]) => Object.keys(s).map((k) => `state.${i}.${k}`)).sort();
    expect(ours).toEqual(torchState);
    for (const [i, s] of sd.state) expectClose(s.momentum_buffer.toArray(), c.fx.floats(`state.${i}.momentum_buffer`), TOL, `state.${i}`);
    sd.param_groups.forEach((g, gi) => {
      const t = c.paramGroups[gi];
      expect(g.params).toEqual(t.params);
      for (const key of ['lr', 'weight_decay', 'momentum', 'dampening', 'nesterov'] as const) expect(g[key], key).toEqual(t[key]);
      expect(g.initial_lr).toBe(g.lr);
    });
    disposeAll(opt, params);
  });

  for (const via of ['direct', 'safetensors + JSON'] as const) {
    it(`${name}: save after 5 steps, load into a fresh optimizer (${via}), 5 more steps: bit-identical to 10 continuous`, () => {
      const cont = setup(name, 'eta');
      run(cont.c, cont.opt, cont.params, 0, 10);
      const expected = values(cont.params);
      disposeAll(cont.opt, cont.params);

      const first = setup(name, 'eta');
      run(first.c, first.opt, first.params, 0, 5);
      const second = setup(name, 'eta');
      second.params.forEach((p, i) => p.copyFromHost(first.params[i].toArray() as Float32Array));
      if (via === 'direct') second.opt.loadStateDict(first.opt.stateDict());
      else {
        const ck = viaCheckpoint(first.opt.stateDict());
        if (name !== 'sgd_plain') expect(ck.names).toEqual(['state.0.momentum_buffer', 'state.1.momentum_buffer', 'state.2.momentum_buffer']);
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

describe('SGD stateDict semantics', () => {
  it('sgd_plain (momentum 0): no state, as PyTorch; momentum 0.9: state only for tensors that stepped', () => {
    const plain = setup('sgd_plain');
    run(plain.c, plain.opt, plain.params, 0, 2);
    expect(plain.opt.stateDict().state.size).toBe(0);
    disposeAll(plain.opt, plain.params);

    const { c, params, opt } = setup('sgd_momentum');
    params[1].grad = null;
    params[0].grad = Tensor.fromArray(c.fx.floats('grad.0.0'), params[0].shape);
    params[2].grad = Tensor.fromArray(c.fx.floats('grad.0.2'), params[2].shape);
    opt.step();
    expect([...opt.stateDict().state.keys()]).toEqual([0, 2]);
    disposeAll(opt, params);
  });

  it('loading its own stateDict (aliased live buffers) keeps the run identical', () => {
    const cont = setup('sgd_momentum_dampening_wd');
    run(cont.c, cont.opt, cont.params, 0, 6);
    const expected = values(cont.params);
    disposeAll(cont.opt, cont.params);
    const { c, params, opt } = setup('sgd_momentum_dampening_wd');
    run(c, opt, params, 0, 3);
    opt.loadStateDict(opt.stateDict());
    run(c, opt, params, 3, 6);
    values(params).forEach((v, i) => expect(v).toEqual(expected[i]));
    disposeAll(opt, params);
  });

  it('loadStateDict takes lr, weight_decay and initial_lr; a fresh tensor (no saved state) takes the first-step rule', () => {
    const { c, params, opt } = setup('sgd_momentum');
    run(c, opt, params, 0, 3);
    const sd = opt.stateDict();
    sd.state.delete(1);
    sd.param_groups[0] = { ...sd.param_groups[0], lr: 0.5, weight_decay: 0.25, initial_lr: 0.75 };
    const fresh = setup('sgd_momentum');
    fresh.opt.loadStateDict(sd);
    expect(fresh.opt.paramGroups[0]).toMatchObject({ lr: 0.5, weightDecay: 0.25, initialLr: 0.75 });
    expect([...fresh.opt.momentumBuffers.keys()]).toEqual([fresh.params[0], fresh.params[2]]);
    disposeAll(opt, params);
    disposeAll(fresh.opt, fresh.params);
  });

  it('loadStateDict releases the replaced buffers: live buffer count flat over 20 loads', () => {
    const { c, params, opt } = setup('sgd_momentum');
    run(c, opt, params, 0, 2);
    const start = memory().liveBuffers;
    for (let k = 0; k < 20; k++) opt.loadStateDict(opt.stateDict());
    expect(memory().liveBuffers).toBe(start);
    disposeAll(opt, params);
  });
});

describe('SGD loadStateDict errors (validated before anything changes)', () => {
  function trained(): { c: OptimCase; params: Parameter[]; opt: SGD; sd: SGDStateDict } {
    const s = setup('sgd_momentum');
    run(s.c, s.opt, s.params, 0, 2);
    return { ...s, sd: s.opt.stateDict() };
  }

  function expectProblem(load: () => void, pattern: RegExp): void {
    let err: unknown;
    try {
      load();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect((err as Error).message).toMatch(/^SGD\.loadStateDict: /);
    expect((err as Error).message).toMatch(pattern);
  }

  it('names the index and both shapes on a shape mismatch, and leaves the optimizer unchanged', () => {
    const { params, opt, sd } = trained();
    const before = opt.momentumBuffers.get(params[2])!.toArray();
    const wrong = Tensor.zeros([3, 3]);
    const bad: OptimizerStateDict = { ...sd, state: new Map([...sd.state, [2, { momentum_buffer: wrong }]]) };
    expectProblem(() => opt.loadStateDict(bad), /state for index 2: momentum_buffer has shape \[3, 3\], the parameter has shape \[2, 3, 3, 3\]/);
    expect(opt.momentumBuffers.get(params[2])!.toArray()).toEqual(before);
    wrong.dispose();
    disposeAll(opt, params);
  });

  it('reports group count, group size, fixed options, keys, indices and dtypes, all at once', () => {
    const { params, opt, sd } = trained();
    expectProblem(() => opt.loadStateDict({ ...sd, param_groups: sd.param_groups.slice(1) }), /the state dict has 2 parameter groups, the optimizer has 3/);
    expectProblem(
      () => opt.loadStateDict({ ...sd, param_groups: [{ ...sd.param_groups[0], params: [0, 5] }, ...sd.param_groups.slice(1)] }),
      /param_groups\[0\] has 2 parameters, the optimizer's group 0 has 1/,
    );
    const ints = Tensor.zeros([7], { dtype: 'int32' });
    const many: OptimizerStateDict = {
      param_groups: [{ ...sd.param_groups[0], momentum: 0.5 }, { ...sd.param_groups[1], lr: -1 }, sd.param_groups[2]],
      state: new Map<number, Record<string, Tensor | number>>([[0, {}], [1, { momentum_buffer: ints }], [9, sd.state.get(2)!]]),
    };
    let err: StateDictError | undefined;
    try {
      opt.loadStateDict(many);
    } catch (e) {
      err = e as StateDictError;
    }
    expect(err?.problems).toEqual([
      'param_groups[0].momentum is 0.5, the optimizer has 0.9 (fixed at construction)',
      'param_groups[1].lr must be a finite number >= 0, got -1',
      'state for index 0: missing momentum_buffer',
      'state for index 1: momentum_buffer has dtype int32, expected float32',
      'state for index 9: no parameter group lists this index',
    ]);
    ints.dispose();
    disposeAll(opt, params);
  });

  it('SGD without momentum rejects a momentum_buffer', () => {
    const withMomentum = trained();
    const plain = setup('sgd_plain');
    expect(() => plain.opt.loadStateDict(withMomentum.sd)).toThrow(/param_groups\[0\]\.momentum is 0\.9, the optimizer has 0[\s\S]*state for index 0: unexpected key momentum_buffer/);
    disposeAll(withMomentum.opt, withMomentum.params);
    disposeAll(plain.opt, plain.params);
  });

  it('optimizerStateFromTensors names malformed tensor names and unknown indices', () => {
    const t = Tensor.zeros([2]);
    const rest = { state: { '0': {} }, param_groups: [] };
    expect(() => optimizerStateFromTensors(new Map([['state.x.momentum_buffer', t], ['state.4.momentum_buffer', t], ['fc.weight', t]]), rest)).toThrow(
      /tensor "state.x.momentum_buffer" is not named state.<index>.<key>[\s\S]*tensor "state.4.momentum_buffer": index 4 is not in rest.state/,
    );
    expect(() => optimizerStateFromTensors(new Map(), { state: { '-1': {} }, param_groups: [] })).toThrow(/rest.state has key "-1", not a parameter index/);
    const sd = optimizerStateFromTensors(new Map([['opt.state.0.momentum_buffer', t], ['state.0.other', t]]), rest, 'opt.');
    expect(sd.state.get(0)).toEqual({ momentum_buffer: t });
    t.dispose();
  });
});
