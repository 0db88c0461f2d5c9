// GradScaler against torch.amp.GradScaler (test/fixtures/amp/grad_scaler.safetensors, made by
// scripts/fixtures/gen-amp-fixtures.py): 14 steps of plain SGD (lr 0.01) with scaled gradients,
// growth interval 3, inf / NaN / -inf injected at steps 2, 3 and 9. The scale after every
// update() and which steps were skipped must be identical; the final parameters equal PyTorch's
// to float32 rounding (rtol 1e-6: the unscale multiplies by the same float32 1/scale). SGD applies
// the scaling in its fused step (skip on the device flag, unscale as it reads): step() reads nothing
// and update() reads the flag once; the same run with unscale_() first must give the same result.
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { Parameter } from '../../src/nn/parameter';
import { GradScaler } from '../../src/optim/grad-scaler';
import { AdamW } from '../../src/optim/adamw';
import { SGD } from '../../src/optim/sgd';
import { Tensor } from '../../src/tensor';
import { memory, scope } from '../../src/memory';
import { expectClose } from '../helpers/compare';
import { FIXTURES, loadFixture } from '../helpers/fixtures';

for (const explicitUnscale of [false, true]) {
  test(`GradScaler (init 2^16, growth 2 every 3 clean steps, backoff 0.5${explicitUnscale ? ', unscale_ before step' : ''}): scales and skipped steps identical to torch.amp.GradScaler`, () => {
    const fx = loadFixture(path.join(FIXTURES, 'amp', 'grad_scaler.safetensors'));
    const meta = (k: string) => JSON.parse(fx.metadata[k]);
    const steps: number = meta('steps');
    const params = [0, 1].map((i) => {
      const init = fx.entries.get(`init.${i}`)!;
      const p = new Parameter(init.shape, 'other');
      p.copyFromHost(fx.floats(`init.${i}`));
      return p;
    });
    const opt = new SGD(params, { lr: meta('lr') });
    const scaler = new GradScaler({ initScale: meta('init_scale'), growthFactor: meta('growth_factor'), backoffFactor: meta('backoff_factor'), growthInterval: meta('growth_interval') });
    const stepped: boolean[] = [];
    const scales: number[] = [];
    const stepReads: number[] = [];
    const reads: number[] = [];
    for (let s = 0; s < steps; s++) {
      params.forEach((p, i) => {
        p.grad = Tensor.fromArray(fx.floats(`step${s}.grad.${i}`), p.shape);
      });
      const before = memory().deviceToHostReads;
      if (explicitUnscale) scaler.unscale_(opt);
      scaler.step(opt);
      stepReads.push(memory().deviceToHostReads - before);
      stepped.push(scaler.update());
      reads.push(memory().deviceToHostReads - before);
      scales.push(scaler.getScale());
      opt.zeroGrad();
    }
    expect(scales).toEqual(meta('scales'));
    expect(stepped).toEqual(meta('stepped'));
    expect(scaler.skippedSteps).toBe(3);
    expect(stepReads.every((r) => r === 0)).toBe(true);  // the step itself reads nothing
    expect(reads.every((r) => r === 1)).toBe(true);  // the found-inf flag, once per step (in update())
    params.forEach((p, i) => expectClose(p.toArray(), fx.floats(`final.${i}`), { atol: 0, rtol: 1e-6 }, `final.${i}`));
    opt.dispose();
    scaler.dispose();
    for (const p of params) p.dispose();
  });
}

test('GradScaler: a skipped first step of SGD with momentum and of AdamW leaves no state; the next step starts it', () =>
  scope(() => {
    for (const make of [(p: Parameter[]) => new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.5 }), (p: Parameter[]) => new AdamW(p, { lr: 0.1 })]) {
      const p = new Parameter([2], 'other');
      p.copyFromHost(new Float32Array([1, 2]));
      const opt = make([p]);
      const scaler = new GradScaler({ initScale: 4 });
      p.grad = Tensor.fromArray([Number.POSITIVE_INFINITY, 4]);
      scaler.step(opt);
      expect(scaler.update()).toBe(false);
      expect(Array.from(p.toArray())).toEqual([1, 2]);
      expect(opt.stateDict().state.size).toBe(0);
      p.grad = Tensor.fromArray([2, 4]);  // unscaled by 1/2 (the scale backed off to 2): [1, 2]
      scaler.step(opt);
      expect(scaler.update()).toBe(true);
      const q = new Parameter([2], 'other');
      const ref = make([q]);
      q.copyFromHost(new Float32Array([1, 2]));
      q.grad = Tensor.fromArray([1, 2]);
      ref.step();
      expect(Array.from(p.toArray())).toEqual(Array.from(q.toArray()));
      const state = opt.stateDict().state.get(0)!;
      if ('step' in state) expect(state.step).toBe(1);
      for (const o of [opt, ref]) o.dispose();
      for (const t of [p, q]) t.dispose();
      scaler.dispose();
    }
  }));

test('GradScaler: state dict uses PyTorch keys and round-trips; disabled scaler passes through', () =>
  scope(() => {
    const scaler = new GradScaler({ growthInterval: 2 });
    const p = new Parameter([2], 'other');
    p.copyFromHost(new Float32Array([1, 2]));
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = Tensor.fromArray([65536, 65536]);
    scaler.step(opt);
    expect(scaler.update()).toBe(true);
    expect(Array.from(p.toArray())).toEqual([Math.fround(0.9), Math.fround(1.9)]);
    expect(scaler.stateDict()).toEqual({ scale: 65536, growth_factor: 2, backoff_factor: 0.5, growth_interval: 2, _growth_tracker: 1 });
    const other = new GradScaler();
    other.loadStateDict({ ...scaler.stateDict(), scale: 1024 });
    expect(other.getScale()).toBe(1024);
    const off = new GradScaler({ enabled: false });
    expect(off.getScale()).toBe(1);
    const loss = Tensor.fromArray([3]);
    expect(off.scale(loss)).toBe(loss);
    expect(() => new GradScaler({ backoffFactor: 2 })).toThrow(/backoffFactor/);
    opt.dispose();
    p.dispose();
  }));
