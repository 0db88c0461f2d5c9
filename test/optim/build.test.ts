// buildOptimizer (src/optim/build.ts): each --lr-mode / --optimizer pair gives the right Optimizer
// with the right multipliers and groups; nonsensical pairs and missing inputs are errors naming the
// option and the accepted values; every mode works with a schedule's apply() and resumes
// bit-identically from its stateDict (MLP 12-8-3, 4 steps of fixed gradients, saved after 2) and
// holds its native buffer count flat over steps.
import { describe, expect, it } from 'vitest';
import { memory } from '../../src/memory';
import { MLP } from '../../src/models/mlp';
import type { Parameter } from '../../src/nn/parameter';
import { AdamW } from '../../src/optim/adamw';
import { buildOptimizer, LR_MODES, type BuildOptimizerOptions, type LrMode, type OptimizerName } from '../../src/optim/build';
import { LAMB } from '../../src/optim/lamb';
import { LARC } from '../../src/optim/larc';
import { AdamNG, SGDNG } from '../../src/optim/ng';
import type { Optimizer } from '../../src/optim/optimizer';
import { warmupCosine } from '../../src/optim/schedule';
import { SGD } from '../../src/optim/sgd';
import { Tensor } from '../../src/tensor';
import { expectClose } from '../helpers/compare';
import { randn } from '../helpers/random';

const BASE = { lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8 };

function etaOf(model: MLP, values = [0.5, 2, 1.5, 3]): Map<Parameter, number> {
  return new Map(model.parameters().map((p, i) => [p, values[i]]));
}

function make(lrMode: LrMode, optimizer: OptimizerName, model: MLP, extra: Partial<BuildOptimizerOptions> = {}): Optimizer {
  const eta = lrMode === 'layerwise' ? etaOf(model) : undefined;
  const mupBase = lrMode === 'mup' ? new MLP(12, 4, 3) : undefined;
  try {
    return buildOptimizer({ ...BASE, lrMode, optimizer, model, eta, mupBase, larc: { trust: 0.02, clip: true }, ...extra });
  } finally {
    mupBase?.dispose();
  }
}

const VALID: [LrMode, OptimizerName, new (...args: never[]) => Optimizer][] = [
  ['layerwise', 'sgd', SGD], ['layerwise', 'adamw', AdamW], ['single', 'sgd', SGD], ['single', 'adamw', AdamW],
  ['increasing', 'sgd', SGD], ['decreasing', 'adamw', AdamW], ['sgd-ng', 'sgd', SGDNG], ['adam-ng', 'adamw', AdamNG],
  ['larc', 'sgd', LARC], ['lamb', 'adamw', LAMB], ['mup', 'sgd', SGD], ['mup', 'adamw', AdamW],
];

describe('buildOptimizer: modes', () => {
  it.each(VALID)('%s + %s gives a %O', (mode, optimizer, cls) => {
    const model = new MLP(12, 8, 3);
    const opt = make(mode, optimizer, model);
    expect(opt).toBeInstanceOf(cls);
    expect(opt.paramGroups[0].params).toEqual(model.parameters());
    opt.dispose();
    model.dispose();
  });

  it('eta: layerwise takes the given map; single is 1; increasing/decreasing are the hand-computed depth-linear values (MLP 12-8-3); mup is MuSGD with wd scale 1/eta', () => {
    const model = new MLP(12, 8, 3);
    const ps = model.parameters();
    const etas = (o: Optimizer) => ps.map((p) => o.getEta(p));
    expect(etas(make('layerwise', 'sgd', model))).toEqual([0.5, 2, 1.5, 3]);
    expect(etas(make('single', 'adamw', model))).toEqual([1, 1, 1, 1]);
    // Expected by hand: numels [96, 8, 24, 3] (sum 131); raw eta linear over the 4 tensors,
    // increasing 0.1, 0.4, 0.7, 1 (sum m*raw = 32.6), decreasing 2, 5/3, 4/3, 1 (sum m*raw = 721/3),
    // then eta = raw * 131 / (sum m*raw).
    const expected = {
      increasing: [131 / 326, 524 / 326, 917 / 326, 1310 / 326],
      decreasing: [786 / 721, 655 / 721, 524 / 721, 393 / 721],
    };
    for (const mode of ['increasing', 'decreasing'] as const) {
      const got = etas(make(mode, 'sgd', model));
      expectClose(got, expected[mode], { rtol: 1e-12, atol: 0 }, mode);
      expect(got.reduce((a, e, i) => a + e * ps[i].numel, 0) / 131).toBeCloseTo(1, 12);
    }
    const mup = make('mup', 'sgd', model);
    expect(etas(mup)).toEqual([2, 2, 2, 1]);
    expect(ps.map((p) => mup.getWeightDecayScale(p))).toEqual([0.5, 0.5, 0.5, 1]);
    expect(model.readoutMultiplier).toBe(0.5);
    expect(etas(make('mup', 'adamw', model))).toEqual([1, 1, 1, 1]);
    model.dispose();
  });

  it('mup keeps lr_i * wd_i at lr * wd, as MuSGD: a zero-gradient step shrinks fc1.weight by lr*wd (rtol 1e-6)', () => {
    const model = new MLP(12, 8, 3);
    const opt = make('mup', 'sgd', model, { momentum: 0, weightDecay: 0.5 });
    const before = model.fc1.weight.toArray();
    for (const p of model.parameters()) p.grad = Tensor.zeros(p.shape);
    opt.step();
    // lr_i = 0.1 * 2, wd_i = 0.5 / 2: w -= 0.2 * 0.25 * w (float32 arithmetic: rtol 1e-6).
    expectClose(model.fc1.weight.toArray(), before.map((v) => v * (1 - 0.05)), { rtol: 1e-6, atol: 0 }, 'fc1.weight');
    model.zeroGrad();
    opt.dispose();
    model.dispose();
  });

  it('noDecayNormBias: weights in a decay group, biases in a group with weight decay 0; LARC gets its options', () => {
    const model = new MLP(12, 8, 3);
    const opt = make('larc', 'sgd', model, { noDecayNormBias: true, larc: { trust: 0.005, clip: false } }) as LARC;
    expect(opt.paramGroups.map((g) => [g.params, g.weightDecay])).toEqual([[[model.fc1.weight, model.fc2.weight], 1e-3], [[model.fc1.bias, model.fc2.bias], 0]]);
    expect([opt.trustCoefficient, opt.clip, opt.eps]).toEqual([0.005, false, 1e-8]);
    model.dispose();
  });
});

describe('buildOptimizer: errors name the option and the accepted values', () => {
  const model = new MLP(12, 8, 3);
  it.each([
    ['sgd-ng', 'adamw', /optimizer \(--optimizer\) 'adamw' does not go with lrMode \(--lr-mode\) 'sgd-ng'; accepted with 'sgd-ng': sgd/],
    ['adam-ng', 'sgd', /optimizer \(--optimizer\) 'sgd' does not go with lrMode \(--lr-mode\) 'adam-ng'; accepted with 'adam-ng': adamw/],
    ['lamb', 'sgd', /'sgd' does not go with lrMode \(--lr-mode\) 'lamb'; accepted with 'lamb': adamw/],
    ['larc', 'adamw', /'adamw' does not go with lrMode \(--lr-mode\) 'larc'; accepted with 'larc': sgd/],
  ] as const)('%s with %s', (mode, optimizer, pattern) => {
    expect(() => make(mode, optimizer, model)).toThrow(pattern);
  });

  it('unknown lrMode / optimizer list the accepted values', () => {
    expect(() => make('cosine' as LrMode, 'sgd', model)).toThrow(new RegExp(`lrMode \\(--lr-mode\\) got "cosine"; accepted: ${LR_MODES.join(', ')}`));
    expect(() => make('single', 'adam' as OptimizerName, model)).toThrow(/optimizer \(--optimizer\) got "adam"; accepted: sgd, adamw/);
  });

  it('layerwise without eta tells the caller to run the probe or pass --eta-from', () => {
    expect(() => buildOptimizer({ ...BASE, lrMode: 'layerwise', optimizer: 'sgd', model })).toThrow(/lrMode 'layerwise' needs eta: run the probe .* or pass --eta-from/);
  });

  it('eta with a mode that sets its own multipliers, mup without a base, mupBase elsewhere, paramGroups with noDecayNormBias', () => {
    expect(() => buildOptimizer({ ...BASE, lrMode: 'lamb', optimizer: 'adamw', model, eta: etaOf(model) })).toThrow(/eta is only used with lrMode layerwise, increasing, decreasing; lrMode 'lamb'/);
    expect(() => buildOptimizer({ ...BASE, lrMode: 'mup', optimizer: 'sgd', model })).toThrow(/lrMode 'mup' needs mupBase/);
    expect(() => buildOptimizer({ ...BASE, lrMode: 'single', optimizer: 'sgd', model, mupBase: model })).toThrow(/mupBase is only used with lrMode 'mup'/);
    expect(() => buildOptimizer({ ...BASE, lrMode: 'single', optimizer: 'sgd', model, paramGroups: model.parameters(), noDecayNormBias: true })).toThrow(/either paramGroups or noDecayNormBias/);
  });
});

function setGrads(model: MLP, step: number): void {
  model.parameters().forEach((p, i) => {
    p.grad?.dispose();
    p.grad = Tensor.fromArray(randn(p.numel, 100 * step + i), p.shape);
  });
}

describe('buildOptimizer: memory', () => {
  it.each(VALID)('%s + %s: live native buffers flat over steps 2..5 (the norms are released)', (mode, optimizer) => {
    const model = new MLP(12, 8, 3);
    const opt = make(mode, optimizer, model);
    let start = 0;
    for (let s = 0; s < 5; s++) {
      setGrads(model, s);
      opt.step();
      if (s === 0) start = memory().liveBuffers;
      else expect(memory().liveBuffers, `step ${s}`).toBe(start);
    }
    model.zeroGrad();
    opt.dispose();
    model.dispose();
  });
});

describe('buildOptimizer: every mode resumes bit-identically and follows a schedule', () => {
  it.each(VALID)('%s + %s: 2 steps, stateDict into a fresh optimizer on a copy, 2 more == 4 continuous; lr follows apply()', (mode, optimizer) => {
    const schedule = warmupCosine({ baseLr: BASE.lr, warmupSteps: 2, totalSteps: 4 });
    const a = new MLP(12, 8, 3);
    const b = new MLP(12, 8, 3);
    b.loadStateDict(a.stateDict());
    const optA = make(mode, optimizer, a);
    for (let s = 0; s < 4; s++) {
      if (s === 2) {
        b.loadStateDict(a.stateDict());
        const optB = make(mode, optimizer, b);
        optB.loadStateDict(optA.stateDict());
        for (let t = 2; t < 4; t++) {
          setGrads(b, t);
          schedule.apply(optB, t);
          optB.step();
        }
        optB.dispose();
      }
      setGrads(a, s);
      expect(schedule.apply(optA, s)).toBe(optA.paramGroups[0].lr);
      optA.step();
    }
    a.parameters().forEach((p, i) => expect(b.parameters()[i].toArray(), `tensor ${i}`).toEqual(p.toArray()));
    optA.dispose();
    a.dispose();
    b.dispose();
  });
});
