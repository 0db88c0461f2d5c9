// muP (src/optim/mup.ts) against the mup package's rules worked out by hand: MLP 784-w-10 against
// base width 256 for w = 256 and 1024 (MuSGD and MuAdam lr multipliers, the readout and its
// multiplier), a 3-layer net with a matrix-like hidden weight whose fan-in and fan-out widen by
// different factors, the MLP's readout multiplier in forward (input of fc2 scaled, bias not), the
// readout init (rescale by sqrt(width_mult) or zero), and the errors.
import { describe, expect, it } from 'vitest';
import { MLP } from '../../src/models/mlp';
import { Linear } from '../../src/nn/linear';
import type { Module } from '../../src/nn/module';
import { ReLU } from '../../src/nn/relu';
import { Sequential } from '../../src/nn/sequential';
import { applyMupReadout, findReadout, mupInitReadout_, mupMultipliers, mupShapes } from '../../src/optim/mup';
import { Tensor } from '../../src/tensor';
import { randn } from '../helpers/random';

function byName(model: Module, m: Map<import('../../src/nn/parameter').Parameter, number>): Record<string, number> {
  return Object.fromEntries(model.namedParameters().map(([n, p]) => [n, m.get(p)!]));
}

describe('muP multipliers, MLP 784-w-10 against base width 256', () => {
  it('w = 256 (the base): every dim finite, every multiplier 1, no readout, readout multiplier 1', () => {
    const model = new MLP(784, 256, 10);
    const base = new MLP(784, 256, 10);
    for (const opt of ['sgd', 'adam'] as const) {
      expect(byName(model, mupMultipliers(model, base, opt))).toEqual({ 'fc1.weight': 1, 'fc1.bias': 1, 'fc2.weight': 1, 'fc2.bias': 1 });
    }
    expect(mupShapes(model, base).map((s) => s.ninf)).toEqual([0, 0, 0, 0]);
    expect(findReadout(model, base)).toBeNull();
    expect(applyMupReadout(model, base)).toBe(1);
    expect(model.readoutMultiplier).toBe(1);
    model.dispose();
    base.dispose();
  });

  it('w = 1024: fc1.weight (1024, 784), fc1.bias, fc2.weight (10, 1024) are vector-like with width_mult 4', () => {
    const model = new MLP(784, 1024, 10);
    const base = new MLP(784, 256, 10);
    const shapes = mupShapes(model, base);
    expect(shapes.map((s) => [s.name, s.infinite, s.ninf, s.widthMult])).toEqual([
      ['fc1.weight', [true, false], 1, 4],
      ['fc1.bias', [true], 1, 4],
      ['fc2.weight', [false, true], 1, 4],
      ['fc2.bias', [false], 0, 1],
    ]);
    // MuSGD: vector-like lr *= width_mult; finite unchanged.
    expect(byName(model, mupMultipliers(model, base, 'sgd'))).toEqual({ 'fc1.weight': 4, 'fc1.bias': 4, 'fc2.weight': 4, 'fc2.bias': 1 });
    // MuAdam: only matrix-like tensors change; this MLP has none.
    expect(byName(model, mupMultipliers(model, base, 'adam'))).toEqual({ 'fc1.weight': 1, 'fc1.bias': 1, 'fc2.weight': 1, 'fc2.bias': 1 });
    const readout = findReadout(model, base)!;
    expect([readout.name, readout.linear === model.fc2, readout.widthMult]).toEqual(['fc2', true, 4]);
    expect(applyMupReadout(model, base)).toBe(0.25);
    expect(model.readoutMultiplier).toBe(0.25);
    expect(applyMupReadout(model, base)).toBe(0.25); // idempotent
    model.dispose();
    base.dispose();
  });
});

function net(widths: [number, number]): Sequential {
  return new Sequential(['fc1', new Linear(784, widths[0])], ['act1', new ReLU()], ['fc2', new Linear(widths[0], widths[1])], ['act2', new ReLU()], ['head', new Linear(widths[1], 10)]);
}

describe('muP multipliers with a matrix-like hidden weight', () => {
  it('784-1024-512-10 against 784-256-256-10: fc2.weight (512, 1024) has fanout_mult 2, fanin_mult 4', () => {
    const model = net([1024, 512]);
    const base = net([256, 256]);
    const sgd = byName(model, mupMultipliers(model, base, 'sgd'));
    const adam = byName(model, mupMultipliers(model, base, 'adam'));
    // MuSGD: matrix-like lr /= fanin_mult / fanout_mult = 4/2; vector-like lr *= width_mult.
    expect(sgd).toEqual({ 'fc1.weight': 4, 'fc1.bias': 4, 'fc2.weight': 0.5, 'fc2.bias': 2, 'head.weight': 2, 'head.bias': 1 });
    // MuAdam: matrix-like lr /= fanin_mult = 4; others 1.
    expect(adam).toEqual({ 'fc1.weight': 1, 'fc1.bias': 1, 'fc2.weight': 0.25, 'fc2.bias': 1, 'head.weight': 1, 'head.bias': 1 });
    expect(findReadout(model, base)!.name).toBe('head');
    expect(() => applyMupReadout(model, base)).toThrow(/mup: Sequential has no readoutMultiplier for its readout head \(width_mult 2\); muP \(--lr-mode mup\) supports models with one, e.g\. mlp/);
    model.dispose();
    base.dispose();
  });

  it('a base that does not match is an error listing every problem', () => {
    const model = net([1024, 512]);
    const other = new Sequential(['fc1', new Linear(784, 256)], ['fc9', new Linear(256, 10)]);
    expect(() => mupMultipliers(model, other, 'sgd')).toThrow(
      /mup: the base model does not match the model:\n {2}fc2\.weight is not in the base model\n[\s\S]*the base model's fc9\.weight is not in the model/,
    );
    model.dispose();
    other.dispose();
  });
});

describe('MLP readout multiplier and muP readout init', () => {
  it('readoutMultiplier m scales the input of fc2: out = fc2.weight @ (m*h) + fc2.bias (rtol 1e-5)', () => {
    const model = new MLP(6, 5, 3);
    const x = Tensor.fromArray(randn(12, 7), [2, 6]);
    const plain = model.call(x).toArray();
    const bias = Array.from(model.fc2.bias!.toArray());
    model.readoutMultiplier = 0.25;
    const scaled = model.call(x).toArray();
    scaled.forEach((v, i) => {
      const expected = 0.25 * (plain[i] - bias[i % 3]) + bias[i % 3];
      expect(Math.abs(v - expected)).toBeLessThanOrEqual(1e-5 * Math.abs(expected) + 1e-7);
    });
    expect(() => (model.readoutMultiplier = 0)).toThrow(/MLP: readoutMultiplier must be a positive finite number, got 0/);
    expect(new MLP(6, 5, 3, { readoutMultiplier: 0.5 }).readoutMultiplier).toBe(0.5);
    x.dispose();
    model.dispose();
  });

  it("readout init 'rescale' (mup's default): fc2 weight and bias times sqrt(4) = 2, fc1 unchanged; 'zero' zeroes fc2", () => {
    const model = new MLP(784, 1024, 10);
    const base = new MLP(784, 256, 10);
    const before = model.namedParameters().map(([, p]) => p.toArray());
    mupInitReadout_(model, base);
    const after = model.namedParameters().map(([, p]) => p.toArray());
    const factors = [1, 1, 2, 2];
    after.forEach((a, t) => expect(a.every((v, i) => v === before[t][i] * factors[t]), `tensor ${t}`).toBe(true));
    mupInitReadout_(model, base, 'zero');
    expect([...model.fc2.weight.toArray()].every((v) => v === 0) && [...model.fc2.bias!.toArray()].every((v) => v === 0)).toBe(true);
    expect(() => mupInitReadout_(model, base, 'xavier' as 'zero')).toThrow(/mup: readout init must be 'rescale' or 'zero', got "xavier"/);
    model.dispose();
    base.dispose();
  });

  it("at base width 'rescale' changes nothing and 'zero' zeroes the last Linear", () => {
    const model = new MLP(784, 256, 10);
    const base = new MLP(784, 256, 10);
    const before = model.fc2.weight.toArray();
    mupInitReadout_(model, base);
    expect(model.fc2.weight.toArray().every((v, i) => v === before[i])).toBe(true);
    mupInitReadout_(model, base, 'zero');
    expect([...model.fc2.weight.toArray()].every((v) => v === 0)).toBe(true);
    model.dispose();
    base.dispose();
  });
});
