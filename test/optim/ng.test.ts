// SGD-NG and Adam-NG (src/optim/ng.ts) against docs/method.md section 5's formulas in float64
// torch (fixtures from scripts/fixtures/gen-baseline-fixtures.py): weights after each of 5 steps
// with lr_i = eta_i * lr as groups or through setEta, the final state, a state-dict round trip
// bit-identical to a continuous run, the in-place normalization itself, and the option checks.
import { describe, expect, it } from 'vitest';
import { StateDictError } from '../../src/errors';
import { Parameter } from '../../src/nn/parameter';
import { AdamNG, SGDNG, normalizeGradients } from '../../src/optim/ng';
import type { ParamsInput } from '../../src/optim/optimizer';
import { SGD } from '../../src/optim/sgd';
import { Tensor } from '../../src/tensor';
import { expectClose } from '../helpers/compare';
import { checkParity, checkResume, loadBaseline, setup, type Make } from './baseline-fixture';
import { disposeAll, run } from './optim-fixture';

function sgdNG(name: string): Make {
  const o = loadBaseline(name).options;
  return (groups: ParamsInput, lr: number, weightDecay: number) =>
    new SGDNG(groups, { lr, weightDecay, momentum: o.momentum as number, ngEps: o.ng_eps as number });
}

function adamNG(name: string): Make {
  const o = loadBaseline(name).options;
  return (groups: ParamsInput, lr: number, weightDecay: number) =>
    new AdamNG(groups, { lr, weightDecay, betas: o.betas as [number, number], eps: o.eps as number, ngEps: o.ng_eps as number });
}

const CASES: [string, (name: string) => Make][] = [['sgd_ng', sgdNG], ['adam_ng', adamNG]];

describe.each(CASES)('NG parity with the float64 reference: %s', (name, make) => {
  for (const layout of ['groups', 'eta'] as const) {
    it(`${name}: weights after each of 5 steps and the final state, ${layout === 'groups' ? 'lr_i = eta_i * lr as groups' : 'eta via setEta'} (rtol 1e-5, atol 1e-7)`, () => {
      checkParity(name, layout, make(name));
    });
  }
  for (const via of ['direct', 'safetensors + JSON'] as const) {
    it(`${name}: save after 2 steps, load into a fresh optimizer (${via}), 3 more: bit-identical to 5 continuous`, () => {
      checkResume(name, make(name), via);
    });
  }
});

describe('normalizeGradients', () => {
  it('g / max(||g||, eps) in place: unit norms, a zero gradient stays zero, a tiny one is divided by eps (rtol 1e-6)', () => {
    const shapes = [[3, 4], [5], [2]];
    const data = [Array.from({ length: 12 }, (_, i) => i - 5.5), [3, 0, 4, 0, 0], [0, 0]];
    const params = shapes.map((s, i) => {
      const p = new Parameter(s, 'other');
      p.grad = Tensor.fromArray(data[i], s);
      return p;
    });
    const tiny = new Parameter([2], 'other');
    tiny.grad = Tensor.fromArray([3e-9, 4e-9], [2]);
    normalizeGradients([...params, tiny], 1e-8, 'test');
    const norm0 = Math.hypot(...data[0]);
    expectClose(params[0].grad!.toArray(), data[0].map((v) => v / norm0), { rtol: 1e-6, atol: 0 }, 'tensor 0');
    expectClose(params[1].grad!.toArray(), [0.6, 0, 0.8, 0, 0], { rtol: 1e-6, atol: 0 }, 'tensor 1');
    expect([...params[2].grad!.toArray()]).toEqual([0, 0]);
    expectClose(tiny.grad!.toArray(), [0.3, 0.4], { rtol: 1e-6, atol: 0 }, 'tiny');
    for (const p of [...params, tiny]) {
      p.grad!.dispose();
      p.dispose();
    }
  });
});

describe('NG options and state dicts', () => {
  it('ngEps must be positive; the error names the optimizer and the option', () => {
    const p = new Parameter([2], 'other');
    expect(() => new SGDNG([p], { lr: 0.1, ngEps: 0 })).toThrow(/SGDNG: ngEps must be a positive finite number, got 0/);
    expect(() => new AdamNG([p], { ngEps: -1 })).toThrow(/AdamNG: ngEps must be a positive finite number, got -1/);
    p.dispose();
  });

  it('stateDict carries ng_eps in every group; a plain SGD state dict is rejected by SGD-NG', () => {
    const { c, params, opt } = setup('sgd_ng', 'eta', sgdNG('sgd_ng'));
    run(c, opt, params, 0, 1);
    const sd = opt.stateDict();
    expect(sd.param_groups.map((g) => g.ng_eps)).toEqual([1e-8, 1e-8]);
    const plain = new SGD([{ params: params.filter((_, i) => i !== 1) }, { params: [params[1]], weightDecay: 0 }], { lr: 0.1, momentum: 0.9 });
    expect(() => opt.loadStateDict(plain.stateDict())).toThrow(StateDictError);
    expect(() => opt.loadStateDict(plain.stateDict())).toThrow(/param_groups\[0\] has no ng_eps \(the optimizer has 1e-8\)/);
    plain.dispose();
    disposeAll(opt, params);
  });
});
