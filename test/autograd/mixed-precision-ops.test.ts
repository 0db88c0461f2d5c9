// Norm, pool, loss and reduction ops with bfloat16 / float16 tensors, channels-last inputs and
// autocast: outputs keep the input's dtype and format (batch_norm, pools) or run in float32
// (layer_norm, softmax, cross_entropy, sum/mean: PyTorch's autocast float32 list); gradients come
// back in each input's dtype and format. Channels-last results equal the contiguous ones within
// one rounding of the dtype (the contiguous path is gradchecked in gradcheck.test.ts).
import { describe, expect, test } from 'vitest';
import * as F from '../../src/functional';
import { autocast } from '../../src/autocast';
import { Tensor, scope } from '../../src/index';
import type { FloatDType } from '../../src/tensor';
import { expectClose } from '../helpers/compare';
import { ULP } from '../helpers/native';
import { randint, randn, randu } from '../helpers/random';

const SHAPE = [3, 5, 6, 7];
const numel = SHAPE.reduce((a, b) => a * b, 1);

/** Runs f on x in both formats; checks formats, dtypes and that values and gradients agree. */
function bothFormats(name: string, f: (x: Tensor) => Tensor, dtype: FloatDType, keepsFormat = true): void {
  scope(() => {
    const values = randn(numel, 1, 2);
    const run = (memoryFormat: 'contiguous' | 'channelsLast') => {
      const x = Tensor.fromArray(values, SHAPE, { dtype, memoryFormat, requiresGrad: true });
      const y = f(x);
      expect(y.dtype, `${name}: output dtype`).toBe(dtype);
      if (keepsFormat) expect(y.memoryFormat, `${name}: output format`).toBe(memoryFormat);
      const r = Tensor.fromArray(randn(y.numel, 2), y.shape, { dtype, memoryFormat: y.memoryFormat });
      F.sum(F.mul(y, r)).backward();
      expect(x.grad!.dtype, `${name}: grad dtype`).toBe(dtype);
      expect(x.grad!.memoryFormat, `${name}: grad format`).toBe(memoryFormat);
      return { y: y.toArray(), dx: x.grad!.toArray() };
    };
    const [a, b] = [run('contiguous'), run('channelsLast')];
    // Different summation orders, then one rounding to the dtype: a step of the dtype, relative.
    const tol = { atol: 1e-5 + (dtype === 'float16' ? 2 ** -24 : 0), rtol: 2 * ULP[dtype] };
    expectClose(b.y, a.y, tol, `${name} ${dtype} y`);
    expectClose(b.dx, a.dx, { atol: 4 * ULP[dtype], rtol: 2 * ULP[dtype] }, `${name} ${dtype} dx`);
  });
}

describe('channels-last and low-precision norm and pool ops', () => {
  for (const dtype of ['float32', 'bfloat16', 'float16'] as FloatDType[]) {
    test(`batch_norm train/eval, max/avg/adaptive pools ${dtype}`, () =>
      scope(() => {
        const c = SHAPE[1];
        const w = Tensor.fromArray(randn(c, 3), [c], { requiresGrad: true });
        const b = Tensor.fromArray(randn(c, 4), [c], { requiresGrad: true });
        const rm = Tensor.fromArray(randn(c, 5), [c]);
        const rv = Tensor.fromArray(randu(c, 6, 0.5, 2), [c]);
        bothFormats('batch_norm train', (x) => F.batchNorm2d(x, rm, rv, w, b, { training: true, momentum: 0 }), dtype);
        bothFormats('batch_norm eval', (x) => F.batchNorm2d(x, rm, rv, w, b, { training: false }), dtype);
        bothFormats('max_pool2d', (x) => F.maxPool2d(x, 3, 2, 1), dtype);
        bothFormats('avg_pool2d', (x) => F.avgPool2d(x, 3, 2, 1, false), dtype);
        bothFormats('adaptive_avg_pool2d', (x) => F.adaptiveAvgPool2d(x, 1), dtype);
        expect(w.grad!.dtype).toBe('float32');
      }));
  }
});

describe('autocast', () => {
  test('batch_norm runs in its input dtype (bfloat16 stays bfloat16, float32 stays float32); its float32 params get float32 grads', () =>
    scope(() => {
      const w = Tensor.fromArray(randn(4, 1), [4], { requiresGrad: true });
      const b = Tensor.fromArray(randn(4, 2), [4], { requiresGrad: true });
      const [rm, rv] = [Tensor.zeros([4]), Tensor.ones([4])];
      const x16 = Tensor.fromArray(randn(96, 3), [2, 4, 3, 4], { dtype: 'bfloat16', requiresGrad: true });
      const x32 = Tensor.fromArray(randn(96, 4), [2, 4, 3, 4]);
      autocast({ dtype: 'bfloat16' }, () => {
        const y = F.batchNorm2d(x16, rm, rv, w, b, { training: true });
        expect(y.dtype).toBe('bfloat16');
        expect(F.batchNorm2d(x32, rm, rv, w, b, { training: true }).dtype).toBe('float32');
        F.sum(F.mul(y, y)).backward();
      });
      expect(x16.grad!.dtype).toBe('bfloat16');
      expect(w.grad!.dtype).toBe('float32');
      expect(b.grad!.dtype).toBe('float32');
    }));

  test('layer_norm, softmax, cross_entropy and sum/mean run in float32; gradients return in bfloat16', () =>
    scope(() => {
      const x = Tensor.fromArray(randn(24, 5), [4, 6], { dtype: 'bfloat16', requiresGrad: true });
      const w = Tensor.fromArray(randn(6, 6), [6], { requiresGrad: true });
      const b = Tensor.fromArray(randn(6, 7), [6], { requiresGrad: true });
      const labels = Tensor.fromArray(randint(4, 6, 8), [4], { dtype: 'int32' });
      autocast({ dtype: 'bfloat16' }, () => {
        const ln = F.layerNorm(x, [6], w, b);
        expect(ln.dtype).toBe('float32');
        expect(F.softmax(x).dtype).toBe('float32');
        const ce = F.crossEntropy(x, labels);
        expect(ce.dtype).toBe('float32');
        expect(F.mean(x).dtype).toBe('float32');
        F.add(F.sum(F.mul(ln, ln)), ce).backward();
      });
      expect(x.grad!.dtype).toBe('bfloat16');
      expect(w.grad!.dtype).toBe('float32');
    }));

  test('without autocast, bfloat16 logits: cross_entropy in float, dlogits bfloat16 close to the float32 ones', () =>
    scope(() => {
      const values = randn(30, 9, 2);
      const labels = Tensor.fromArray(randint(5, 6, 10), [5], { dtype: 'int32' });
      const grads = (['float32', 'bfloat16'] as FloatDType[]).map((dtype) => {
        const rounded = Tensor.fromArray(values, [5, 6], { dtype }).toArray(); // both see the bf16-rounded values
        const z = Tensor.fromArray(dtype === 'float32' ? Tensor.fromArray(rounded, [5, 6], { dtype: 'bfloat16' }).toArray() : rounded, [5, 6], { dtype, requiresGrad: true });
        const loss = F.crossEntropy(z, labels);
        expect(loss.dtype).toBe('float32');
        loss.backward();
        expect(z.grad!.dtype).toBe(dtype);
        return { loss: loss.item(), grad: z.grad!.toArray() };
      });
      expect(grads[1].loss).toBeCloseTo(grads[0].loss, 6);
      expectClose(grads[1].grad, grads[0].grad, { atol: 1e-6, rtol: 2 * ULP.bfloat16 }, 'dlogits');
    }));
});
