// Scaled dot-product attention and the q/k/v Attention module against a float64 reference
// (softmax(q k^T * scale + bias) v, written out with loops), float32 tolerance 1e-5 relative to the
// output scale; finite-difference gradchecks of matmulNT, of attention w.r.t. q, k, v and the bias,
// and of the module's parameters; the module's parameter names (q, k, v, proj).
import { describe, expect, test } from 'vitest';
import { F, Tensor, nn, scope } from '../../src/index';
import { expectClose } from '../helpers/compare';
import { gradcheck } from '../helpers/gradcheck';
import { randn } from '../helpers/random';

function reference(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, bias: ArrayLike<number> | null, [b, h, n, d]: number[], scale: number): Float64Array {
  const out = new Float64Array(b * h * n * d);
  for (let bh = 0; bh < b * h; bh++) {
    const base = bh * n * d;
    for (let i = 0; i < n; i++) {
      const logits = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q[base + i * d + c] * k[base + j * d + c];
        logits[j] = s * scale + (bias ? bias[(bh % h) * n * n + i * n + j] : 0);
      }
      const m = Math.max(...logits);
      const e = logits.map((x) => Math.exp(x - m));
      const z = e.reduce((a, x) => a + x, 0);
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += (e[j] / z) * v[base + j * d + c];
        out[base + i * d + c] = s;
      }
    }
  }
  return out;
}

describe('attention', () => {
  const shape = [2, 3, 5, 4];
  const numel = 2 * 3 * 5 * 4;

  test('scaledDotProductAttention (B2 H3 N5 D4, with a (H, N, N) bias) matches the float64 reference', () =>
    scope(() => {
      const [qa, ka, va] = [randn(numel, 1), randn(numel, 2), randn(numel, 3)];
      const ba = randn(3 * 25, 4);
      const y = F.scaledDotProductAttention(Tensor.fromArray(qa, shape), Tensor.fromArray(ka, shape), Tensor.fromArray(va, shape), {
        bias: Tensor.fromArray(ba, [3, 5, 5]),
      });
      expectClose(y.toArray(), reference(qa, ka, va, ba, shape, 0.5), { atol: 1e-5, rtol: 1e-5 }, 'attention');
    }));

  test('gradchecks: matmulNT, attention w.r.t. q, k, v and bias', () => {
    const t = (seed: number, s: number[]) => Tensor.fromArray(randn(s.reduce((a, b) => a * b, 1), seed), s, { requiresGrad: true });
    gradcheck('matmulNT', (a, b) => F.matmulNT(a, b), [t(5, [2, 3, 4]), t(6, [2, 5, 4])]);
    gradcheck('attention', (q, k, v, bias) => F.scaledDotProductAttention(q, k, v, { bias }), [t(7, shape), t(8, shape), t(9, shape), t(10, [3, 5, 5])]);
  });

  test('Attention module: names q, k, v, proj; output matches the reference built from its weights', () =>
    scope(() => {
      const attn = new nn.Attention(6, 2);
      expect(attn.namedParameters().map(([n]) => n)).toEqual(['q.weight', 'q.bias', 'k.weight', 'k.bias', 'v.weight', 'v.bias', 'proj.weight', 'proj.bias']);
      const x = Tensor.fromArray(randn(2 * 4 * 6, 11), [2, 4, 6], { requiresGrad: true });
      const y = attn.call(x);
      expect(y.shape).toEqual([2, 4, 6]);
      const heads = (t: Tensor) => t.reshape([2, 4, 2, 3]).permute([0, 2, 1, 3]);
      const expected = F.linear(
        F.scaledDotProductAttention(heads(attn.q.call(x)), heads(attn.k.call(x)), heads(attn.v.call(x))).permute([0, 2, 1, 3]).reshape([2, 4, 6]),
        attn.proj.weight, attn.proj.bias,
      );
      expectClose(y.toArray(), expected.toArray(), { atol: 1e-6, rtol: 1e-6 }, 'module');
      gradcheck('Attention(x)', (xi) => attn.call(xi), [x]);
      attn.dispose();
    }));
});
