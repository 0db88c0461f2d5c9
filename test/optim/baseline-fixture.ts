// Shared by ng.test.ts, larc.test.ts and lamb.test.ts: loads a case of test/fixtures/baselines
// (scripts/fixtures/gen-baseline-fixtures.py; format in that folder's README), builds parameters
// with the fixture's roles, lays out lr_i = eta_i * lr as one group per tensor or through setEta,
// runs the stored gradients, and checks weights after every step and a save/load round trip.
import { expect } from 'vitest';
import { Parameter, type ParameterRole } from '../../src/nn/parameter';
import type { Optimizer, ParamsInput } from '../../src/optim/optimizer';
import { expectClose } from '../helpers/compare';
import { disposeAll, loadCase, run, values, viaCheckpoint, type OptimCase } from './optim-fixture';

// Parity tolerance: |w - w_ref| <= 1e-5 * |w_ref| + 1e-7 after every step, against a float64
// reference rounded to float32 (the atol covers weights that pass near zero).
export const TOL = { rtol: 1e-5, atol: 1e-7 };

export interface BaselineCase extends OptimCase {
  roles: ParameterRole[];
}

export function loadBaseline(name: string): BaselineCase {
  const c = loadCase(`../baselines/${name}`);
  return { ...c, roles: JSON.parse(c.fx.metadata.roles) as ParameterRole[] };
}

export function makeParams(c: BaselineCase): Parameter[] {
  return c.shapes.map((shape, i) => {
    const p = new Parameter(shape, c.roles[i]);
    p.copyFromHost(c.fx.floats(`param.${i}`));
    return p;
  });
}

export type Layout = 'groups' | 'eta';
export type Make = (groups: ParamsInput, lr: number, weightDecay: number) => Optimizer;

/**
 * 'groups': one group per tensor, lr = eta_i * lr, the fixture's weight decays. 'eta': one group
 * at the base lr (plus a no-decay group when the case has one) and eta_i through setEta.
 */
export function build(c: BaselineCase, params: Parameter[], layout: Layout, make: Make): Optimizer {
  const lr = c.options.lr as number;
  const wd = (c.options.weight_decay as number | undefined) ?? 0;
  if (layout === 'groups') return make(params.map((p, i) => ({ params: [p], lr: c.paramGroups[i].lr, weightDecay: c.paramGroups[i].weight_decay })), lr, wd);
  const nd = c.noDecayGroup;
  const groups = nd < 0 ? [{ params }] : [{ params: params.filter((_, i) => i !== nd) }, { params: [params[nd]], weightDecay: 0 }];
  const opt = make(groups, lr, wd);
  opt.setEta(new Map(params.map((p, i) => [p, c.eta[i]])));
  return opt;
}

export function setup(name: string, layout: Layout, make: Make): { c: BaselineCase; params: Parameter[]; opt: Optimizer } {
  const c = loadBaseline(name);
  const params = makeParams(c);
  return { c, params, opt: build(c, params, layout, make) };
}

/** Weights after each step against the fixture, then the final state tensors. */
export function checkParity(name: string, layout: Layout, make: Make): void {
  const { c, params, opt } = setup(name, layout, make);
  run(c, opt, params, 0, c.steps, (s) => {
    params.forEach((p, i) => expectClose(p.toArray(), c.fx.floats(`after.${s}.${i}`), TOL, `${name} step ${s} tensor ${i}`));
  });
  const sd = opt.stateDict();
  const expectedKeys = [...c.fx.entries.keys()].filter((k) => k.startsWith('state.')).sort();
  const ours = [...sd.state].flatMap(([i, s]) => Object.keys(s).filter((k) => typeof s[k] !== 'number').map((k) => `state.${i}.${k}`)).sort();
  if (layout === 'groups') {
    expect(ours).toEqual(expectedKeys);
    for (const key of expectedKeys) {
      const [, i, k] = key.split('.');
      expectClose((sd.state.get(Number(i))![k] as Parameter).toArray(), c.fx.floats(key), TOL, key);
    }
    for (const [i, s] of sd.state) if ('step' in s) expect(s.step).toBe(c.stateSteps[String(i)]);
  }
  disposeAll(opt, params);
}

/** Save after `at` steps, load into a fresh optimizer (direct or via the checkpoint form), finish. */
export function checkResume(name: string, make: Make, via: 'direct' | 'safetensors + JSON', at = 2): void {
  const cont = setup(name, 'eta', make);
  run(cont.c, cont.opt, cont.params, 0, cont.c.steps);
  const expected = values(cont.params);
  disposeAll(cont.opt, cont.params);

  const first = setup(name, 'eta', make);
  run(first.c, first.opt, first.params, 0, at);
  const second = setup(name, 'eta', make);
  second.params.forEach((p, i) => p.copyFromHost(first.params[i].toArray() as Float32Array));
  if (via === 'direct') second.opt.loadStateDict(first.opt.stateDict());
  else {
    const ck = viaCheckpoint(first.opt.stateDict());
    second.opt.loadStateDict(ck.sd);
    ck.dispose();
  }
  disposeAll(first.opt, first.params);
  run(second.c, second.opt, second.params, at, second.c.steps);
  values(second.params).forEach((v, i) => expect(v, `tensor ${i}`).toEqual(expected[i]));
  disposeAll(second.opt, second.params);
}
