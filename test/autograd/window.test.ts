// The window ops through autograd (src/autograd/ops/window.ts): finite-difference gradchecks in
// float32 (eps 1e-2, atol 2e-3, rtol 2e-2, test/helpers/gradcheck.ts), composition (partition then
// reverse is the identity; in Swin's order with the bias and the mask added to attention logits),
// gradients in the input's dtype, and the errors naming the op, the shapes and the option.
import { describe, expect, test } from 'vitest';
import * as F from '../../src/functional';
import { Tensor, scope } from '../../src/index';
import { expectClose } from '../helpers/compare';
import { gradcheck, leaf } from '../helpers/gradcheck';

describe('window ops: gradcheck (float32 central differences)', () => {
  test('windowPartition and windowReverse, B=2 8x8 C=3 ws=4 shift 2 and 1x6x9 ws=3 shift 0 / 1', () =>
    scope(() => {
      gradcheck('window_partition', (x) => F.windowPartition(x, 4, 2), [leaf([2, 8, 8, 3], 1)]);
      gradcheck('window_partition no shift', (x) => F.windowPartition(x, 3, 0), [leaf([1, 6, 9, 2], 2)]);
      gradcheck('window_reverse', (w) => F.windowReverse(w, 4, 8, 8, 2), [leaf([8, 16, 3], 3)]);
      gradcheck('window_reverse 4-d windows', (w) => F.windowReverse(w, 3, 6, 9, 1), [leaf([6, 3, 3, 2], 4)]);
    }));
  test('relativePositionBias (ws=3, heads 2) and windowMaskAdd (B=2, 4x4 map, ws 2, shift 1: a small loss keeps float32 differences precise)', () =>
    scope(() => {
      const index = F.relativePositionIndexTensor(3);
      gradcheck('relative_position_bias', (t) => F.relativePositionBias(t, index, 9), [leaf([25, 2], 5)]);
      const mask = F.shiftedWindowMask(4, 4, 2, 1);
      gradcheck('window_mask_add', (a) => F.windowMaskAdd(a, mask), [leaf([8, 2, 4, 4], 6)]);
    }));
  test('Swin-style composition: partition, logits + bias + mask, softmax, reverse', () =>
    scope(() => {
      const [ws, shift] = [4, 2];
      const index = F.relativePositionIndexTensor(ws);
      const mask = F.shiftedWindowMask(8, 8, ws, shift);
      const f = (x: Tensor, table: Tensor): Tensor => {
        const win = F.windowPartition(x, ws, shift); // (8, 16, 4)
        const q = F.reshape(win, [8, 1, 16, 4]); // one head
        const logits = F.matmul(q, F.transpose(q, -2, -1)); // (8, 1, 16, 16)
        const withBias = F.add(logits, F.reshape(F.relativePositionBias(table, index, 16), [1, 1, 16, 16]));
        const masked = F.windowMaskAdd(withBias, mask);
        const att = F.softmax(masked);
        const out = F.matmul(att, q);
        return F.windowReverse(F.reshape(out, [8, 16, 4]), ws, 8, 8, shift);
      };
      gradcheck('swin window attention', f, [leaf([2, 8, 8, 4], 7, 0.3), leaf([49, 1], 8)], { atol: 5e-3, rtol: 5e-2 });
    }));
});

describe('window ops: semantics and errors', () => {
  test('windowReverse(windowPartition(x)) is x, bfloat16, gradients bfloat16', () =>
    scope(() => {
      const x = Tensor.fromArray(Array.from({ length: 2 * 14 * 7 * 3 }, (_, i) => (i % 97) / 8), [2, 14, 7, 3], { dtype: 'bfloat16', requiresGrad: true });
      const w = F.windowPartition(x, 7, 3);
      expect(w.shape).toEqual([4, 49, 3]);
      const back = F.windowReverse(w, 7, 14, 7, 3);
      expectClose(back.toArray(), x.toArray(), { atol: 0, rtol: 0 });
      F.sum(back).backward();
      expect(x.grad!.dtype).toBe('bfloat16');
      expectClose(x.grad!.toArray(), new Float32Array(x.numel).fill(1), { atol: 0, rtol: 0 });
    }));
  test('relativePositionBias: a bfloat16 table gets a bfloat16 gradient; output dtype option', () =>
    scope(() => {
      const table = Tensor.fromArray(Array.from({ length: 9 * 3 }, (_, i) => i), [9, 3], { dtype: 'bfloat16', requiresGrad: true });
      const y = F.relativePositionBias(table, F.relativePositionIndexTensor(2), 4, { dtype: 'float16' });
      expect([y.dtype, ...y.shape]).toEqual(['float16', 3, 4, 4]);
      F.sum(y).backward();
      expect(table.grad!.dtype).toBe('bfloat16');
      // Each of the 9 offsets of a 2x2 window occurs (2 - |dh|) * (2 - |dw|) times.
      const counts = [1, 2, 1, 2, 4, 2, 1, 2, 1];
      expectClose(table.grad!.toArray(), counts.flatMap((c) => [c, c, c]), { atol: 0, rtol: 0 });
    }));
  test('shiftedWindowMask: shift 0 is all zeros, H and W rounded up to windows as timm', () => {
    expect(F.shiftedWindowMaskArray(8, 8, 4, 0).every((v) => v === 0)).toBe(true);
    expect(F.shiftedWindowMask(10, 7, 4, 2).shape).toEqual([6, 16, 16]);
  });
  test('errors name the op, the shapes and the option', () =>
    scope(() => {
      expect(() => F.windowPartition(Tensor.zeros([1, 6, 8, 2]), 4, 2)).toThrow(/window_partition: H=6 and W=8 of input \[1, 6, 8, 2\] must be multiples of window_size 4/);
      expect(() => F.windowPartition(Tensor.zeros([6, 8, 2]), 4)).toThrow(/window_partition: expected input \(B, H, W, C\), got \[6, 8, 2\]/);
      expect(() => F.windowPartition(Tensor.zeros([1, 8, 8, 2]), 0)).toThrow(/window_partition: window_size must be an integer >= 1, got 0/);
      expect(() => F.windowReverse(Tensor.zeros([3, 16, 2]), 4, 8, 8)).toThrow(/window_reverse: expected windows \(B \* 4, 16, C\) for H=8, W=8, window_size 4, got \[3, 16, 2\]/);
      const idx = F.relativePositionIndexTensor(2);
      expect(() => F.relativePositionBias(Tensor.zeros([9, 2]), idx, 3)).toThrow(/relative_position_bias: index \[4, 4\] must hold n\*n = 9 entries for n=3/);
      expect(() => F.relativePositionBias(Tensor.zeros([9, 2]), Tensor.zeros([16]), 4)).toThrow(/relative_position_bias: index must be int32, got float32/);
      expect(() => F.relativePositionBias(Tensor.zeros([4, 2]), idx, 4)).toThrow(/relative_position_bias_forward: index\[0\] = 4 is outside/);
      expect(() => F.windowMaskAdd(Tensor.zeros([6, 2, 16, 16]), F.shiftedWindowMask(8, 8, 4, 2))).toThrow(/window_mask_add: expected attn \(B \* nW, heads, n, n\) and mask \(nW, n, n\), got \[6, 2, 16, 16\] and \[4, 16, 16\]/);
      expect(() => F.shiftedWindowMask(8, 8, 4, 4)).toThrow(/shifted_window_mask: shift 4 must be below window_size 4/);
    }));
});
