// Learning-rate schedules: the closed forms documented in src/optim/schedule.ts at hand-computed
// points, the torch.optim.lr_scheduler values of test/fixtures/optim/schedules.safetensors
// (SequentialLR(LinearLR, CosineAnnealingLR), StepLR, LambdaLR; per step and per epoch), apply()
// keeping group ratios with eta on top, and errors that name the bad option.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors';
import { toFloat64Array } from '../../src/io/safetensors';
import { Parameter } from '../../src/nn/parameter';
import { constant, stepDecay, warmupCosine, type Schedule } from '../../src/optim/schedule';
import { SGD } from '../../src/optim/sgd';
import { Tensor } from '../../src/tensor';
import { FIXTURES, loadFixture } from '../helpers/fixtures';

// Torch's chainable schedulers update the lr recursively in float64; against the closed forms
// they differ by rounding only: relative tolerance 1e-12.
const REL = 1e-12;
const STEPS_PER_EPOCH = 7;

describe('closed forms', () => {
  it('warmupCosine W=3 T=7: (t+1)/W ramp, peak at t=2, cosine to 0 at t=6, held after', () => {
    const s = warmupCosine({ baseLr: 1, warmupSteps: 3, totalSteps: 7 });
    const c = (x: number) => (1 + Math.cos(x)) / 2;
    const expected = [1 / 3, 2 / 3, 1, c(Math.PI / 4), 0.5, c((3 * Math.PI) / 4), 0, 0, 0];
    expected.forEach((v, t) => expect(s(t), `t=${t}`).toBeCloseTo(v, 15));
    expect(s(1000)).toBe(0);
  });

  it('warmupCosine with minLr 0.2: the cosine spans [minLr, baseLr]', () => {
    const s = warmupCosine({ baseLr: 1, warmupSteps: 3, totalSteps: 7, minLr: 0.2 });
    expect(s(0)).toBeCloseTo(1 / 3, 15);
    expect(s(4)).toBeCloseTo(0.6, 15);
    expect(s(6)).toBe(0.2);
    expect(s(50)).toBe(0.2);
  });

  it('warmupCosine: warmupSteps 0 and 1 both mean no warmup; warmupSteps = totalSteps ends at baseLr', () => {
    const a = warmupCosine({ baseLr: 0.4, warmupSteps: 0, totalSteps: 20 });
    const b = warmupCosine({ baseLr: 0.4, warmupSteps: 1, totalSteps: 20 });
    for (let t = 0; t < 25; t++) expect(a(t)).toBe(b(t));
    expect(a(0)).toBe(0.4);
    expect(a(19)).toBe(0);
    const all = warmupCosine({ baseLr: 0.3, warmupSteps: 10, totalSteps: 10 });
    expect(all(0)).toBeCloseTo(0.03, 16);
    expect(all(9)).toBe(0.3);
    expect(all(10)).toBe(0.3);
    expect(warmupCosine({ baseLr: 2, warmupSteps: 0, totalSteps: 1 })(0)).toBe(2);
  });

  it('stepDecay (StepLR): baseLr * gamma^floor(t / stepSize); constant: baseLr', () => {
    const s = stepDecay({ baseLr: 0.1, stepSize: 15, gamma: 0.1 });
    expect([s(0), s(14), s(15), s(29), s(30), s(45)]).toEqual([0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 ** 2, 0.1 * 0.1 ** 3]);
    const k = constant({ baseLr: 0.05 });
    expect([k(0), k(1), k(10_000)]).toEqual([0.05, 0.05, 0.05]);
  });

  it("per: 'epoch' holds the value for each epoch, computed from the epoch index", () => {
    const perStep = warmupCosine({ baseLr: 0.4, warmupSteps: 2, totalSteps: 12 });
    const perEpoch = warmupCosine({ baseLr: 0.4, warmupSteps: 2, totalSteps: 12, per: 'epoch', stepsPerEpoch: 5 });
    for (let step = 0; step < 70; step++) expect(perEpoch(step)).toBe(perStep(Math.floor(step / 5)));
    expect(perEpoch.at(3)).toBe(perStep(3));
    expect(JSON.parse(JSON.stringify(perEpoch.options))).toEqual({ baseLr: 0.4, warmupSteps: 2, totalSteps: 12, minLr: 0, per: 'epoch', stepsPerEpoch: 5 });
  });
});

describe('torch.optim.lr_scheduler fixtures (relative 1e-12)', () => {
  const fx = loadFixture(path.join(FIXTURES, 'optim', 'schedules.safetensors'));
  const meta = JSON.parse(fx.metadata.schedules) as Record<string, { kind: string; options: Record<string, number | string>; n: number }>;
  const make: Record<string, (o: never) => Schedule> = { warmupCosine, stepDecay, constant };

  it('the fixture holds every schedule kind, per step and per epoch', () => {
    expect(Object.keys(meta).sort()).toEqual([
      'constant', 'step', 'step_epoch', 'warmup_cosine', 'warmup_cosine_all_warmup', 'warmup_cosine_epoch', 'warmup_cosine_min', 'warmup_cosine_no_warmup',
    ]);
  });

  for (const name of Object.keys(meta)) {
    const { kind, options, n } = meta[name];
    it(`${name}: ${kind}(${JSON.stringify(options)}) over ${n} ${options.per}s`, () => {
      const expected = toFloat64Array(fx.entries.get(name)!, name);
      expect(expected.length).toBe(n);
      const perEpoch = options.per === 'epoch';
      const s = make[kind]({ ...options, ...(perEpoch ? { stepsPerEpoch: STEPS_PER_EPOCH } : {}) } as never);
      const steps = perEpoch ? n * STEPS_PER_EPOCH : n;
      for (let step = 0; step < steps; step++) {
        const want = expected[perEpoch ? Math.floor(step / STEPS_PER_EPOCH) : step];
        const got = s(step);
        if (Math.abs(got - want) > REL * Math.abs(want)) expect.fail(`${name} step ${step}: got ${got}, torch ${want}`);
      }
    });
  }
});

describe('apply(optimizer, step)', () => {
  it('sets each group lr = initialLr * lr(step) / baseLr (ratios kept); eta multiplies on top in the step', () => {
    const a = new Parameter([1], 'weight');
    const b = new Parameter([1], 'bias');
    a.copyFromHost(Float32Array.of(1));
    b.copyFromHost(Float32Array.of(1));
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.02 }], { lr: 0.1 });
    opt.setEta(new Map([[a, 2]]));
    const s = warmupCosine({ baseLr: 0.1, warmupSteps: 4, totalSteps: 10 });
    expect(s.apply(opt, 1)).toBeCloseTo(0.05, 16);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1 * (s(1) / 0.1), 0.02 * (s(1) / 0.1)]);
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 0.02]);
    for (const p of [a, b]) p.grad = Tensor.ones([1]);
    opt.step();
    expect(a.item()).toBeCloseTo(1 - 0.05 * 2, 6);
    expect(b.item()).toBeCloseTo(1 - 0.01, 6);
    s.apply(opt, 9);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0, 0]);
    for (const p of [a, b]) {
      p.grad?.dispose();
      p.dispose();
    }
  });
});

describe('errors name the option', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['negative baseLr', () => warmupCosine({ baseLr: -0.1, warmupSteps: 1, totalSteps: 5 }), /^warmupCosine: baseLr must be a finite number > 0, got -0.1$/],
    ['zero baseLr', () => constant({ baseLr: 0 }), /^constant: baseLr must be a finite number > 0, got 0$/],
    ['NaN baseLr', () => stepDecay({ baseLr: NaN, stepSize: 1, gamma: 0.5 }), /^stepDecay: baseLr must be a finite number > 0, got NaN$/],
    ['warmupSteps > totalSteps', () => warmupCosine({ baseLr: 0.1, warmupSteps: 6, totalSteps: 5 }), /^warmupCosine: warmupSteps \(6\) must be <= totalSteps \(5\)$/],
    ['fractional warmupSteps', () => warmupCosine({ baseLr: 0.1, warmupSteps: 1.5, totalSteps: 5 }), /^warmupCosine: warmupSteps must be an integer >= 0, got 1.5$/],
    ['totalSteps 0', () => warmupCosine({ baseLr: 0.1, warmupSteps: 0, totalSteps: 0 }), /^warmupCosine: totalSteps must be an integer >= 1, got 0$/],
    ['minLr > baseLr', () => warmupCosine({ baseLr: 0.1, warmupSteps: 0, totalSteps: 5, minLr: 0.2 }), /^warmupCosine: minLr must be in \[0, baseLr = 0.1\], got 0.2$/],
    ['negative minLr', () => warmupCosine({ baseLr: 0.1, warmupSteps: 0, totalSteps: 5, minLr: -1 }), /^warmupCosine: minLr must be in/],
    ['stepSize 0', () => stepDecay({ baseLr: 0.1, stepSize: 0, gamma: 0.1 }), /^stepDecay: stepSize must be an integer >= 1, got 0$/],
    ['gamma 0', () => stepDecay({ baseLr: 0.1, stepSize: 3, gamma: 0 }), /^stepDecay: gamma must be a finite number > 0, got 0$/],
    ["per 'epoch' without stepsPerEpoch", () => constant({ baseLr: 0.1, per: 'epoch' }), /^constant: stepsPerEpoch must be an integer >= 1, got undefined$/],
    ['unknown per', () => constant({ baseLr: 0.1, per: 'day' as 'step' }), /^constant: per must be 'step' or 'epoch', got day$/],
    ['unknown option', () => warmupCosine({ baseLr: 0.1, warmup: 3, totalSteps: 5 } as never), /^warmupCosine: unknown option warmup \(known: /],
    ['negative step', () => constant({ baseLr: 0.1 })(-1), /^constant: step must be an integer >= 0, got -1$/],
    ['fractional step', () => stepDecay({ baseLr: 0.1, stepSize: 2, gamma: 0.5 })(2.5), /^stepDecay: step must be an integer >= 0, got 2.5$/],
  ];
  for (const [what, fn, pattern] of cases) {
    it(`${what}: ArgumentError ${pattern.source.slice(1, 40)}...`, () => {
      expect(fn).toThrow(ArgumentError);
      expect(fn).toThrow(pattern);
    });
  }
});
