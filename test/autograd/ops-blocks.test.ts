// The shared transformer / ConvNeXt ops through autograd: finite-difference gradchecks (float32;
// eps 1e-2, atol 2e-3, rtol 2e-2 unless stated) of cat, narrow, prependToken, dropPath and
// layerNorm2d, and their semantics: cat/narrow values against host arithmetic (exact: copies),
// channelsLast and mixed dtypes, drop path identity in eval and its per-sample mask, LayerNorm2d
// channelsLast = contiguous and float32 under autocast, the position-embedding add taking the
// bias_add kernel with its gradient summed over the batch, and nn.LayerScale.
import { describe, expect, test, vi } from 'vitest';
import * as F from '../../src/functional';
import { autocast } from '../../src/autocast';
import { Tensor, nn, scope } from '../../src/index';
import { kernels } from '../../src/native/addon';
import { getRandomState, manualSeed, setRandomState } from '../../src/random';
import { expectClose } from '../helpers/compare';
import { gradcheck, leaf } from '../helpers/gradcheck';
import { randn } from '../helpers/random';
import * as actRef from '../reference/activation';

const arr = (t: Tensor): number[] => Array.from(t.toArray());

describe('gradcheck of the block ops', () => {
  test('cat of three along dims 0, 1 and -1; narrow; prependToken', () =>
    scope(() => {
      gradcheck('cat dim1', (a, b, c) => F.cat([a, b, c], 1), [leaf([2, 3, 4], 1), leaf([2, 1, 4], 2), leaf([2, 2, 4], 3)]);
      gradcheck('cat dim0', (a, b) => F.cat([a, b], 0), [leaf([2, 5], 4), leaf([3, 5], 5)]);
      gradcheck('cat dim-1', (a, b) => F.cat([a, b], -1), [leaf([3, 2], 6), leaf([3, 4], 7)]);
      gradcheck('narrow', (x) => F.narrow(x, 1, 1, 3), [leaf([2, 5, 3], 8)]);
      gradcheck('prependToken', (t, x) => F.prependToken(t, x), [leaf([1, 1, 6], 9), leaf([3, 4, 6], 10)]);
    }));
  test('layerNorm2d (N=2, C=5, 3x4) (channelsLast: compared with contiguous below); dropPath p=0.4 with a replayed stream', () =>
    scope(() => {
      const opt = { atol: 5e-3, rtol: 5e-2 };
      gradcheck('layer_norm2d', (x, w, b) => F.layerNorm2d(x, w, b), [leaf([2, 5, 3, 4], 1), leaf([5], 2), leaf([5], 3)], opt);
      manualSeed(3);
      const state = getRandomState();
      gradcheck('drop_path', (x) => (setRandomState(state), F.dropPath(x, 0.4, true)), [leaf([8, 5], 7)]);
    }));
});

describe('cat and narrow', () => {
  test('cat values equal torch.cat along dim 1 (exact), int32 too; the output has the summed size', () =>
    scope(() => {
      const a = Tensor.fromArray([1, 2, 3, 4], [2, 2]);
      const b = Tensor.fromArray([5, 6, 7, 8, 9, 10], [2, 3]);
      const y = F.cat([a, b], 1);
      expect(y.shape).toEqual([2, 5]);
      expect(arr(y)).toEqual([1, 2, 5, 6, 7, 3, 4, 8, 9, 10]);
      const ai = Tensor.fromArray([1, 2], [2, 1], { dtype: 'int32' });
      const yi = F.cat([ai, ai], 0);
      expect(yi.dtype).toBe('int32');
      expect(arr(yi)).toEqual([1, 2, 1, 2]);
    }));
  test('cat of channelsLast tensors along channels stays channelsLast and equals the contiguous cat; narrow of every dim too', () =>
    scope(() => {
      const va = randn(2 * 3 * 4 * 5, 1);
      const vb = randn(2 * 2 * 4 * 5, 2);
      const c = F.cat([Tensor.fromArray(va, [2, 3, 4, 5]), Tensor.fromArray(vb, [2, 2, 4, 5])], 1);
      const l = F.cat([Tensor.fromArray(va, [2, 3, 4, 5], { memoryFormat: 'channelsLast' }), Tensor.fromArray(vb, [2, 2, 4, 5], { memoryFormat: 'channelsLast' })], 1);
      expect(l.memoryFormat).toBe('channelsLast');
      expect(arr(l.contiguous())).toEqual(arr(c));
      const x = Tensor.fromArray(va, [2, 3, 4, 5], { memoryFormat: 'channelsLast' });
      for (const dim of [1, 2, 3]) {
        const n = F.narrow(x, dim, 1, 2);
        expect(n.memoryFormat).toBe('channelsLast');
        expect(arr(n.contiguous())).toEqual(arr(F.narrow(x.contiguous(), dim, 1, 2)));
      }
    }));
  test('cat of bfloat16 and float32 promotes to float32; gradients return in each dtype', () =>
    scope(() => {
      const a = Tensor.fromArray([1, 2], [1, 2], { dtype: 'bfloat16', requiresGrad: true });
      const b = Tensor.fromArray([3, 4], [1, 2], { requiresGrad: true });
      const y = F.cat([a, b], 0);
      expect(y.dtype).toBe('float32');
      F.sum(y).backward();
      expect(a.grad!.dtype).toBe('bfloat16');
      expect(arr(a.grad!)).toEqual([1, 1]);
      expect(b.grad!.dtype).toBe('float32');
    }));
  test('narrow / slice values and its gradient is zero outside the block', () =>
    scope(() => {
      const x = Tensor.fromArray([0, 1, 2, 3, 4, 5, 6, 7], [2, 4], { requiresGrad: true });
      const y = x.slice(1, 1, 2);
      expect(arr(y)).toEqual([1, 2, 5, 6]);
      expect(arr(F.narrow(x, -1, -1, 1))).toEqual([3, 7]);
      F.sum(y).backward();
      expect(arr(x.grad!)).toEqual([0, 1, 1, 0, 0, 1, 1, 0]);
    }));
  test('errors name the op and the shapes', () =>
    scope(() => {
      expect(() => F.cat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], 1)).toThrow(/cat: sizes of tensors must match except in dimension 1.*\(2, 3\).*\(3, 3\)|cat: sizes of tensors must match except in dimension 1/);
      expect(() => F.narrow(Tensor.zeros([2, 3]), 1, 2, 2)).toThrow(/narrow: start 2 and length 2 out of range for dimension 1 of size 3/);
      expect(() => F.prependToken(Tensor.zeros([1, 1, 4]), Tensor.zeros([2, 3, 5]))).toThrow(/prependToken: expected token \(1, 1, D\)/);
    }));
  test('prependToken equals cat([token x N, x], 1); the token gradient sums the batch', () =>
    scope(() => {
      const token = Tensor.fromArray([10, 20], [1, 1, 2], { requiresGrad: true });
      const x = Tensor.fromArray([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], { requiresGrad: true });
      const y = F.prependToken(token, x);
      expect(y.shape).toEqual([2, 3, 2]);
      expect(arr(y)).toEqual([10, 20, 1, 2, 3, 4, 10, 20, 5, 6, 7, 8]);
      const r = Tensor.fromArray([1, 2, 0, 0, 0, 0, 3, 4, 1, 1, 1, 1], [2, 3, 2]);
      F.sum(F.mul(y, r)).backward();
      expect(arr(token.grad!)).toEqual([4, 6]);
      expect(arr(x.grad!)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    }));
});

describe('dropPath', () => {
  test('identity in eval and for p = 0 (the same tensor); nn.DropPath follows train()/eval()', () =>
    scope(() => {
      const x = Tensor.fromArray(randn(12, 1), [4, 3]);
      expect(F.dropPath(x, 0.5, false)).toBe(x);
      expect(F.dropPath(x, 0, true)).toBe(x);
      const m = new nn.DropPath(0.5);
      m.eval();
      expect(m.call(x)).toBe(x);
      expect(() => new nn.DropPath(2)).toThrow(/DropPath: p must be in \[0, 1\]/);
    }));
  test('the per-sample mask is the dropout hash at the stream position; kept rows scaled by 1/(1-p); backward uses the mask', () =>
    scope(() => {
      manualSeed(11);
      const { seed, offset } = getRandomState();
      const [n, d, p] = [64, 3, 0.3];
      const x = Tensor.fromArray(randn(n * d, 2), [n, d], { requiresGrad: true });
      const y = F.dropPath(x, p, true);
      expect(getRandomState().offset).toBe(offset + n); // one draw per sample
      const mask = actRef.dropPathMask(n, p, seed, offset);
      expectClose(y.toArray(), actRef.dropPath(x.toArray(), mask, Math.fround(p), d), { atol: 0, rtol: 1e-6 });
      F.sum(y).backward();
      expectClose(x.grad!.toArray(), actRef.dropPath(new Float32Array(n * d).fill(1), mask, Math.fround(p), d), { atol: 0, rtol: 1e-6 });
    }));
});

describe('LayerNorm2d, position embedding, LayerScale', () => {
  test('nn.LayerNorm2d: timm parameter names, eps 1e-6; channelsLast equals contiguous; float32 under autocast bf16', () =>
    scope(() => {
      const m = new nn.LayerNorm2d(6);
      expect(m.namedParameters().map(([k]) => k)).toEqual(['weight', 'bias']);
      expect(m.eps).toBe(1e-6);
      const v = randn(2 * 6 * 3 * 5, 3, 2);
      const r = Tensor.fromArray(randn(v.length, 9), [2, 6, 3, 5]);
      const run = (memoryFormat: 'contiguous' | 'channelsLast') => {
        m.zeroGrad();
        const x = Tensor.fromArray(v, [2, 6, 3, 5], { memoryFormat, requiresGrad: true });
        const y = m.call(x);
        expect(y.memoryFormat).toBe(memoryFormat);
        F.sum(F.mul(y, r)).backward();
        expect(x.grad!.memoryFormat).toBe(memoryFormat);
        return [y.contiguous().toArray(), x.grad!.contiguous().toArray(), m.weight.grad!.toArray(), m.bias.grad!.toArray()];
      };
      const a = run('contiguous');
      const b = run('channelsLast');
      // the same math in another summation order (layernorm_* over rows vs layernorm_channels_*)
      a.forEach((va, i) => expectClose(b[i], va, { atol: 1e-5, rtol: 1e-5 }, ['y', 'dx', 'dweight', 'dbias'][i]));
      const xb = Tensor.fromArray(v, [2, 6, 3, 5], { dtype: 'bfloat16' });
      const y = autocast({ dtype: 'bfloat16' }, () => m.call(xb));
      expect(y.dtype).toBe('float32');
    }));
  test('F.add(x (N,L,D), pos (1,L,D)) runs bias_add with outer N; the pos gradient sums over N', () =>
    scope(() => {
      const [n, l, d] = [3, 4, 5];
      const x = Tensor.fromArray(randn(n * l * d, 4), [n, l, d], { requiresGrad: true });
      const pos = Tensor.fromArray(randn(l * d, 5), [1, l, d], { requiresGrad: true });
      const spy = vi.spyOn(kernels, 'bias_add_forward');
      const y = F.add(x, pos);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0].slice(4)).toEqual([n, l * d, 1]);
      spy.mockRestore();
      const r = Tensor.fromArray(randn(n * l * d, 6), [n, l, d]);
      F.sum(F.mul(y, r)).backward();
      const rv = r.toArray();
      const want = Float64Array.from({ length: l * d }, (_, j) => rv[j] + rv[l * d + j] + rv[2 * l * d + j]);
      expectClose(pos.grad!.toArray(), want, { atol: 1e-6, rtol: 1e-6 });
      gradcheck('pos embed add', F.add, [Tensor.fromArray(randn(n * l * d, 7), [n, l, d], { requiresGrad: true }), Tensor.fromArray(randn(l * d, 8), [1, l, d], { requiresGrad: true })]);
    }));
  test('nn.LayerScale(dim, init): parameter gamma filled with init; x * gamma per channel, gradchecked', () =>
    scope(() => {
      const m = new nn.LayerScale(4, 0.5);
      expect(m.namedParameters().map(([k]) => k)).toEqual(['gamma']);
      expect(arr(m.gamma)).toEqual([0.5, 0.5, 0.5, 0.5]);
      expect(m.gamma.role).toBe('layer_scale');
      const x = Tensor.fromArray([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
      expect(arr(m.call(x))).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
      expect(new nn.LayerScale(3).gamma.toArray()[0]).toBeCloseTo(1e-5, 10);
      gradcheck('layer scale', (xx, g) => F.mul(xx, g), [leaf([2, 3, 4], 1), leaf([4], 2)]);
    }));
});
