// A failed fused step leaves the optimizer's state as it was: step counts, which parameters have
// state, and the contents of the momentum / moment buffers. The kernel is made to fail with a
// gradient of the wrong size (the binding's size check rejects it before any arithmetic) or a
// disposed gradient; new buffers allocated for the step are released (live buffer count flat).
import { describe, expect, it } from 'vitest';
import { keep, memory } from '../../src/memory';
import { Parameter } from '../../src/nn/parameter';
import { AdamW } from '../../src/optim/adamw';
import { LAMB } from '../../src/optim/lamb';
import type { Optimizer } from '../../src/optim/optimizer';
import { SGD } from '../../src/optim/sgd';
import { Tensor } from '../../src/tensor';

function params(): Parameter[] {
  const a = new Parameter([3, 4], 'weight');
  const b = new Parameter([4], 'bias');
  a.copyFromHost(Float32Array.from({ length: 12 }, (_, i) => 0.1 * i - 0.5));
  b.copyFromHost(Float32Array.from([0.3, -0.2, 0.1, 0.4]));
  return [a, b];
}

function setGrads(ps: Parameter[], k: number): void {
  for (const p of ps) {
    p.grad?.dispose();
    p.grad = keep(Tensor.fromArray(Float32Array.from({ length: p.numel }, (_, i) => Math.sin(i + k)), p.shape));
  }
}

/** Everything in the state dict: counters and the tensors' values, plus the weights. */
function snapshot(opt: Optimizer, ps: Parameter[]): unknown {
  const sd = opt.stateDict();
  const state = [...sd.state].map(([i, s]) => [i, Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v.toArray())]))]);
  return { state, weights: ps.map((p) => Array.from(p.toArray())) };
}

type Break = 'wrong-size grad' | 'disposed grad';

function breakGrad(p: Parameter, how: Break): void {
  p.grad?.dispose();
  if (how === 'wrong-size grad') p.grad = keep(Tensor.zeros([p.numel - 1]));
  else {
    const g = Tensor.zeros(p.shape);
    g.dispose();
    p.grad = g;
  }
}

const OPTIMIZERS: [string, (ps: Parameter[]) => Optimizer][] = [
  ['SGD momentum 0.9', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ['LAMB', (ps) => new LAMB(ps, { lr: 0.01 })],
];

describe.each(OPTIMIZERS)('%s: a failed step leaves the state unchanged', (name, make) => {
  for (const how of ['wrong-size grad', 'disposed grad'] as const) {
    it(`${name}, ${how} at the first step: no state is created, no buffer leaks`, () => {
      const ps = params();
      const opt = make(ps);
      setGrads(ps, 0);
      breakGrad(ps[1], how);
      const before = memory().liveBuffers;
      expect(() => opt.step()).toThrow();
      expect(opt.stateDict().state.size).toBe(0);
      expect(memory().liveBuffers).toBe(before);
      // A good step afterwards is the first step (AdamW: step 1).
      setGrads(ps, 0);
      opt.step();
      for (const s of opt.stateDict().state.values()) if ('step' in s) expect(s.step).toBe(1);
      opt.zeroGrad();
      opt.dispose();
      for (const p of ps) p.dispose();
    });

    it(`${name}, ${how} after 2 good steps: step counts and buffer contents bit-identical`, () => {
      const ps = params();
      const opt = make(ps);
      for (let k = 0; k < 2; k++) {
        setGrads(ps, k);
        opt.step();
      }
      const before = snapshot(opt, ps);
      setGrads(ps, 5);
      breakGrad(ps[0], how);
      const live = memory().liveBuffers;
      expect(() => opt.step()).toThrow();
      expect(snapshot(opt, ps)).toEqual(before);
      expect(opt.stateDict().state.size).toBe(2);
      expect(memory().liveBuffers).toBe(live);
      opt.zeroGrad();
      opt.dispose();
      for (const p of ps) p.dispose();
    });
  }
});
