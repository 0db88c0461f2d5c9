// Finite-difference gradient checks through autograd: L = sum(f(inputs) * R) for a fixed random
// R; the analytic gradient from backward() is compared with central differences on a sample of
// elements of every input. float32 throughout, so eps and tolerances are chosen for that.
import { expect } from 'vitest';
import { scope, noGrad, Tensor } from '../../src/index';
import { mul, sum } from '../../src/functional';
import { randn } from './random';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  samples?: number;
  seed?: number;
}

/** Checks d(sum(f(xs) * R))/dx for every x in `inputs` (which must require grad). */
export function gradcheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const eps = options.eps ?? 1e-2;
  const atol = options.atol ?? 2e-3;
  const rtol = options.rtol ?? 2e-2;
  const samples = options.samples ?? 12;
  scope(() => {
    const probe = noGrad(() => f(...inputs));
    const r = Tensor.fromArray(randn(probe.numel, options.seed ?? 99), probe.shape);
    const loss = (): number => noGrad(() => scope(() => sum(mul(f(...inputs), r)).item()));
    for (const x of inputs) {
      x.grad?.dispose();
      x.grad = null;
    }
    sum(mul(f(...inputs), r)).backward();
    inputs.forEach((x, k) => {
      expect(x.grad, `${name}: input ${k} got no gradient`).not.toBeNull();
      const analytic = x.grad!.toArray();
      const values = x.toArray() as Float32Array;
      const step = Math.max(1, Math.floor(values.length / samples));
      for (let i = (k * 7) % step; i < values.length; i += step) {
        const original = values[i];
        values[i] = original + eps;
        x.copyFromHost(values);
        const plus = loss();
        values[i] = original - eps;
        x.copyFromHost(values);
        const minus = loss();
        values[i] = original;
        x.copyFromHost(values);
        const numeric = (plus - minus) / (2 * eps);
        const diff = Math.abs(numeric - analytic[i]);
        if (diff > atol + rtol * Math.abs(numeric)) {
          expect.fail(`${name}: d/d input${k}[${i}]: analytic ${analytic[i]} vs numeric ${numeric} (diff ${diff}, atol ${atol}, rtol ${rtol})`);
        }
      }
      x.grad!.dispose();
      x.grad = null;
    });
  });
}

/** A leaf tensor of normal values that requires grad. */
export function leaf(shape: number[], seed: number, std = 1): Tensor {
  return Tensor.fromArray(randn(shape.reduce((a, b) => a * b, 1), seed, std), shape, { requiresGrad: true });
}
