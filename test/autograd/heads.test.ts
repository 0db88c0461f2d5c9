// Attention products on heads read in place (matmul_strided): headLogits and headWeightedSum equal
// the permute-based composition (reshape to (B, N, H, Dh), permute to (B, H, N, Dh), matmulNT /
// matmul, permute back) within float32 rounding (1e-6 relative to the output scale) and within
// bfloat16 rounding under autocast (2e-2); finite-difference gradchecks of both; the kernel refuses
// a leading dimension shorter than a row.
import { describe, expect, test } from 'vitest';
import { autocast } from '../../src/autocast';
import { headLogits, headWeightedSum } from '../../src/autograd/ops/heads';
import { F, Tensor, scope } from '../../src/index';
import { kernels } from '../../src/native/addon';
import { expectClose } from '../helpers/compare';
import { gradcheck } from '../helpers/gradcheck';
import { randn } from '../helpers/random';

const [B, N, H, DH] = [2, 5, 3, 4];
const D = H * DH;
const split = (t: Tensor) => t.reshape([B, N, H, DH]).permute([0, 2, 1, 3]);

function scaleOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('attention heads in place', () => {
  test('B2 N5 H3 Dh4: headLogits and headWeightedSum equal the permute composition (float32, bfloat16 autocast)', () =>
    scope(() => {
      const q = Tensor.fromArray(randn(B * N * D, 1), [B, N, D]);
      const k = Tensor.fromArray(randn(B * N * D, 2), [B, N, D]);
      const v = Tensor.fromArray(randn(B * N * D, 3), [B, N, D]);
      const w = Tensor.fromArray(randn(B * H * N * N, 4), [B, H, N, N]);
      const logits = F.scale(F.matmulNT(split(q), split(k)), 0.5).toArray();
      const sum = F.matmul(w, split(v)).permute([0, 2, 1, 3]).reshape([B, N, D]).toArray();
      expectClose(headLogits(q, k, H, 0.5).toArray(), logits, { atol: 1e-6 * scaleOf(logits), rtol: 1e-6 }, 'headLogits f32');
      expectClose(headWeightedSum(w, v, H).toArray(), sum, { atol: 1e-6 * scaleOf(sum), rtol: 1e-6 }, 'headWeightedSum f32');
      const [l16, s16] = autocast({ dtype: 'bfloat16' }, () => [headLogits(q, k, H, 0.5), headWeightedSum(w, v, H)]);
      expect([l16.dtype, s16.dtype]).toEqual(['bfloat16', 'bfloat16']);
      expectClose(l16.toArray(), logits, { atol: 2e-2 * scaleOf(logits), rtol: 2e-2 }, 'headLogits bf16');
      expectClose(s16.toArray(), sum, { atol: 2e-2 * scaleOf(sum), rtol: 2e-2 }, 'headWeightedSum bf16');
    }));

  test('gradchecks of headLogits and headWeightedSum', () => {
    const t = (seed: number, shape: number[]) => Tensor.fromArray(randn(shape.reduce((a, b) => a * b, 1), seed), shape, { requiresGrad: true });
    gradcheck('headLogits', (q, k) => headLogits(q, k, H, 0.7), [t(5, [B, N, D]), t(6, [B, N, D])]);
    gradcheck('headWeightedSum', (w, v) => headWeightedSum(w, v, H), [t(7, [B, H, N, N]), t(8, [B, N, D])]);
  });

  test('matmul_strided refuses a leading dimension shorter than a row', () =>
    scope(() => {
      const a = Tensor.zeros([64]);
      expect(() => kernels.matmul_strided(a.buffer, a.buffer, a.buffer, 'float32', 1, 1, 2, 2, 4, false, false, 1, 0, 0, 0, 3, 0, 0, 2, 0, 0, 2))
        .toThrow(/matmul_strided: a leading dimension is below its row length/);
    }));
});
