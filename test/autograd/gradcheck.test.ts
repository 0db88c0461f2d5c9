// Finite-difference checks of every differentiable op through autograd (float32; eps 1e-2,
// atol 2e-3, rtol 2e-2 unless stated). Kernel formulas are checked in float64 in test/kernels.
import { describe, test } from 'vitest';
import * as F from '../../src/functional';
import { Tensor, scope } from '../../src/index';
import { gradcheck, leaf } from '../helpers/gradcheck';
import { randint, randu } from '../helpers/random';

describe('gradcheck (float32 central differences)', () => {
  test('add same shape and broadcast over channels (2,3,4,4)+(3,1,1)', () =>
    scope(() => {
      gradcheck('add', F.add, [leaf([2, 3], 1), leaf([2, 3], 2)]);
      gradcheck('add broadcast', F.add, [leaf([2, 3, 4, 4], 3), leaf([3, 1, 1], 4)]);
    }));
  test('sub, mul same shape and last-dim broadcast, scale', () =>
    scope(() => {
      gradcheck('sub', F.sub, [leaf([5], 1), leaf([5], 2)]);
      gradcheck('mul', F.mul, [leaf([2, 5], 3), leaf([2, 5], 4)]);
      gradcheck('mul lastdim', F.mul, [leaf([2, 5, 6], 5), leaf([6], 6)]);
      gradcheck('scale', (x) => F.scale(x, -0.7), [leaf([7], 7)]);
    }));
  test('sum and mean', () =>
    scope(() => {
      gradcheck('sum', F.sum, [leaf([3, 4], 1)]);
      gradcheck('mean', F.mean, [leaf([3, 4], 2)]);
    }));
  test('matmul 2d, batched, batched-by-shared', () =>
    scope(() => {
      gradcheck('matmul 2d', F.matmul, [leaf([4, 6], 1), leaf([6, 3], 2)]);
      gradcheck('matmul batched', F.matmul, [leaf([2, 3, 4], 3), leaf([2, 4, 5], 4)]);
      gradcheck('matmul shared rhs', F.matmul, [leaf([2, 3, 4], 5), leaf([4, 5], 6)]);
    }));
  test('linear with and without bias, 3-d input', () =>
    scope(() => {
      gradcheck('linear', (x, w, b) => F.linear(x, w, b), [leaf([2, 3, 5], 1), leaf([4, 5], 2), leaf([4], 3)]);
      gradcheck('linear nobias', (x, w) => F.linear(x, w), [leaf([3, 5], 4), leaf([2, 5], 5)]);
    }));
  test('conv2d stride=2 pad=1 dil=1 groups=1 with bias; groups=2 dilation=2; depthwise', () =>
    scope(() => {
      gradcheck('conv2d', (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [leaf([2, 3, 7, 7], 1), leaf([4, 3, 3, 3], 2), leaf([4], 3)]);
      gradcheck('conv2d groups dil', (x, w) => F.conv2d(x, w, null, { padding: 2, dilation: 2, groups: 2 }), [leaf([1, 4, 6, 6], 4), leaf([6, 2, 3, 3], 5)]);
      gradcheck('conv2d depthwise', (x, w) => F.conv2d(x, w, null, { padding: 1, groups: 3 }), [leaf([2, 3, 5, 5], 6), leaf([3, 1, 3, 3], 7)]);
    }));
  test('relu (inputs away from 0), gelu, softmax', () =>
    scope(() => {
      const away = Tensor.fromArray(Array.from(randu(24, 1, 0.1, 1), (v, i) => (i % 2 ? v : -v)), [4, 6], { requiresGrad: true });
      gradcheck('relu', F.relu, [away]);
      gradcheck('gelu', F.gelu, [leaf([4, 6], 2)]);
      gradcheck('softmax', (x) => F.softmax(x), [leaf([3, 7], 3)]);
    }));
  test('batch norm train and eval (N=4,C=3,5x5), layer norm (3,8)', () =>
    scope(() => {
      const rm = Tensor.zeros([3]);
      const rv = Tensor.ones([3]);
      gradcheck('batch_norm train', (x, w, b) => F.batchNorm2d(x, rm, rv, w, b, { training: true, momentum: 0 }), [leaf([4, 3, 5, 5], 1), leaf([3], 2), leaf([3], 3)], { atol: 5e-3, rtol: 5e-2 });
      gradcheck('batch_norm eval', (x, w, b) => F.batchNorm2d(x, rm, rv, w, b, { training: false }), [leaf([4, 3, 5, 5], 4), leaf([3], 5), leaf([3], 6)]);
      gradcheck('layer_norm', (x, w, b) => F.layerNorm(x, [8], w, b), [leaf([3, 8], 7), leaf([8], 8), leaf([8], 9)], { atol: 5e-3, rtol: 5e-2 });
    }));
  test('max pool k3 s2 p1 (distinct values), avg pool with/without pad counting, adaptive avg pool', () =>
    scope(() => {
      const perm = Array.from({ length: 2 * 2 * 7 * 7 }, (_, i) => ((i * 37) % 196) / 10);
      gradcheck('max_pool2d', (x) => F.maxPool2d(x, 3, 2, 1), [Tensor.fromArray(perm, [2, 2, 7, 7], { requiresGrad: true })]);
      gradcheck('avg_pool2d incpad', (x) => F.avgPool2d(x, 3, 2, 1, true), [leaf([2, 2, 7, 7], 2)]);
      gradcheck('avg_pool2d excpad', (x) => F.avgPool2d(x, 3, 2, 1, false), [leaf([2, 2, 7, 7], 3)]);
      gradcheck('adaptive_avg_pool2d', (x) => F.adaptiveAvgPool2d(x, 1), [leaf([2, 3, 4, 5], 4)]);
    }));
  test('cross entropy with labels (mean, sum, none) and soft targets', () =>
    scope(() => {
      const labels = Tensor.fromArray(randint(6, 5, 1), [6], { dtype: 'int32' });
      const soft = Tensor.fromArray(randu(30, 2), [6, 5]);
      gradcheck('ce mean', (x) => F.crossEntropy(x, labels), [leaf([6, 5], 3)]);
      gradcheck('ce sum', (x) => F.crossEntropy(x, labels, 'sum'), [leaf([6, 5], 4)]);
      gradcheck('ce none', (x) => F.crossEntropy(x, labels, 'none'), [leaf([6, 5], 5)]);
      gradcheck('ce soft', (x) => F.crossEntropy(x, soft), [leaf([6, 5], 6)]);
    }));
  test('reshape, flatten, permute, transpose, clone', () =>
    scope(() => {
      gradcheck('reshape', (x) => F.reshape(x, [4, -1]), [leaf([2, 3, 4], 1)]);
      gradcheck('flatten', (x) => F.flatten(x, 1), [leaf([2, 3, 4], 2)]);
      gradcheck('permute', (x) => F.permute(x, [0, 2, 3, 1]), [leaf([2, 3, 4, 5], 3)]);
      gradcheck('transpose', (x) => F.transpose(x, 0, 1), [leaf([3, 4], 4)]);
      gradcheck('clone', F.clone, [leaf([5], 5)]);
    }));
  test('dropout p=0.3 (fixed mask per call through the seeded stream)', async () => {
    const { manualSeed, getRandomState, setRandomState } = await import('../../src/random');
    manualSeed(5);
    const state = getRandomState();
    // Every evaluation replays the same stream position, so f is deterministic.
    scope(() => gradcheck('dropout', (x) => (setRandomState(state), F.dropout(x, 0.3, true)), [leaf([40], 1)]));
  });
});
