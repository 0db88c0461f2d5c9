// LARC (src/optim/larc.ts) against apex's LARC rule written in float64 torch (fixtures from
// scripts/fixtures/gen-baseline-fixtures.py): clip and no-clip cases, weights after each of 5 steps
// with lr_i = eta_i * lr as groups or through setEta, the final momentum buffers, a state-dict
// round trip bit-identical to a continuous run, role handling and the option checks.
import { describe, expect, it } from 'vitest';
import { Parameter } from '../../src/nn/parameter';
import { LARC } from '../../src/optim/larc';
import type { ParamsInput } from '../../src/optim/optimizer';
import { SGD } from '../../src/optim/sgd';
import { Tensor } from '../../src/tensor';
import { checkParity, checkResume, loadBaseline, setup, type Make } from './baseline-fixture';
import { disposeAll, run } from './optim-fixture';

function larc(name: string): Make {
  const o = loadBaseline(name).options;
  return (groups: ParamsInput, lr: number, weightDecay: number) =>
    new LARC(groups, {
      lr, weightDecay, momentum: o.momentum as number,
      trustCoefficient: o.trust_coefficient as number, clip: o.clip as boolean, eps: o.eps as number,
    });
}

describe.each(['larc_clip', 'larc_noclip'])('LARC parity with the float64 reference: %s', (name) => {
  for (const layout of ['groups', 'eta'] as const) {
    it(`${name}: weights after each of 5 steps and the momentum buffers, ${layout === 'groups' ? 'lr_i = eta_i * lr as groups' : 'eta via setEta'} (rtol 1e-5, atol 1e-7)`, () => {
      checkParity(name, layout, larc(name));
    });
  }
  for (const via of ['direct', 'safetensors + JSON'] as const) {
    it(`${name}: save after 2 steps, load into a fresh optimizer (${via}), 3 more: bit-identical to 5 continuous`, () => {
      checkResume(name, larc(name), via);
    });
  }
});

function oneStep(role: Parameter['role'], w: number[], g: number[], options: ConstructorParameters<typeof LARC>[1]): Float32Array {
  const p = new Parameter([w.length], role);
  p.copyFromHost(Float32Array.from(w));
  p.grad = Tensor.fromArray(g, [w.length]);
  const opt = new LARC([p], options);
  opt.step();
  const out = p.toArray() as Float32Array;
  disposeAll(opt, [p]);
  return out;
}

describe('LARC rules', () => {
  it('a bias (role bias) keeps its gradient and gets no decay: w - lr*g', () => {
    const out = oneStep('bias', [3, 4], [1, 2], { lr: 0.5, weightDecay: 0.1, trustCoefficient: 0.02 });
    expect([...out]).toEqual([...Float32Array.from([3 - 0.5 * 1, 4 - 0.5 * 2])]);
  });

  it('a weight with ||w|| = 0 keeps its gradient and gets no decay (apex)', () => {
    const out = oneStep('weight', [0, 0], [1, 2], { lr: 0.5, weightDecay: 0.1 });
    expect([...out]).toEqual([-0.5, -1]);
  });

  it('clip with lr 0 (warmup start): a = min(a/0, 1) = 1, so the step is zero', () => {
    const out = oneStep('weight', [3, 4], [1, 2], { lr: 0, weightDecay: 0.1 });
    expect([...out]).toEqual([3, 4]);
  });

  it('by hand: ||w|| = 5, ||g|| = sqrt(5), trust 0.1, wd 0.2, no clip: w - lr*a*(g + wd*w) (rtol 1e-6)', () => {
    const a = (0.1 * 5) / (Math.sqrt(5) + 0.2 * 5 + 1e-8);
    const out = oneStep('weight', [3, 4], [1, 2], { lr: 0.5, weightDecay: 0.2, trustCoefficient: 0.1, clip: false });
    const expected = [3 - 0.5 * a * (1 + 0.2 * 3), 4 - 0.5 * a * (2 + 0.2 * 4)];
    out.forEach((v, i) => expect(Math.abs(v - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-6));
  });

  it('the group weight decay is restored (unchanged) after a step; stateDict reports it and LARC options', () => {
    const { c, params, opt } = setup('larc_clip', 'eta', larc('larc_clip'));
    run(c, opt, params, 0, 1);
    expect(opt.paramGroups[0].weightDecay).toBe(5e-4);
    expect(opt.stateDict().param_groups[0]).toMatchObject({ weight_decay: 5e-4, momentum: 0.9, trust_coefficient: 1e-3, clip: true, larc_eps: 1e-8 });
    const plain = new SGD([{ params }], { lr: 0.2, momentum: 0.9 });
    expect(() => opt.loadStateDict(plain.stateDict())).toThrow(/param_groups\[0\] has no trust_coefficient/);
    plain.dispose();
    disposeAll(opt, params);
  });

  it('options are checked and named', () => {
    const p = new Parameter([2], 'weight');
    expect(() => new LARC([p], { lr: 0.1, trustCoefficient: 0 })).toThrow(/LARC: trustCoefficient must be a positive finite number, got 0/);
    expect(() => new LARC([p], { lr: 0.1, eps: -1 })).toThrow(/LARC: eps must be a finite number >= 0, got -1/);
    p.dispose();
  });
});
