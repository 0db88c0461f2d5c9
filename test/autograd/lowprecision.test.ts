// conv2d, linear and matmul at the autograd level in low precision and channels-last: outputs and
// gradients come back in the input's dtype and memory format; under autocast a float32 weight
// runs in bfloat16 but its gradient is float32; mixed dtypes outside autocast are an error naming
// both. Values are checked against the float32 computation on the same (bfloat16-rounded) values.
import { describe, expect, test } from 'vitest';
import { autocast } from '../../src/autocast';
import { DTypeError, F, Tensor } from '../../src/index';
import { expectClose, type Tolerance } from '../helpers/compare';
import { roundTo, scaleOf } from '../helpers/dtype';
import { randn } from '../helpers/random';

// bfloat16 results: float32 accumulation, one rounding of each output (2^-9 relative), compared
// with float32 on the same rounded inputs: 1e-2 of the output scale.
const bf16Tol = (expected: ArrayLike<number>): Tolerance => ({ atol: 1e-2 * scaleOf(expected), rtol: 1e-2 });

function leaf(values: ArrayLike<number>, shape: number[]): Tensor {
  const t = Tensor.fromArray(values, shape);
  t.requiresGrad = true;
  return t;
}

/** Runs conv2d forward and backward on the given leaves; returns y, dx, dw, db as float32 arrays. */
function convPass(x: Tensor, w: Tensor, b: Tensor, dy: ArrayLike<number>): Float32Array[] {
  const y = F.conv2d(x, w, b, { stride: 2, padding: 1 });
  y.backward(Tensor.fromArray(dy, y.shape));
  return [y.toArray() as Float32Array, x.grad!.toArray() as Float32Array, w.grad!.toArray() as Float32Array,
    b.grad!.toArray() as Float32Array];
}

describe('conv2d autograd in bfloat16 and channelsLast', () => {
  const xs = roundTo(randn(2 * 16 * 9 * 9, 1), 'bfloat16');
  const ws = roundTo(randn(32 * 16 * 3 * 3, 2), 'bfloat16');
  const bs = roundTo(randn(32, 3), 'bfloat16');
  const dy = roundTo(randn(2 * 32 * 5 * 5, 4), 'bfloat16');
  const expected = convPass(leaf(xs, [2, 16, 9, 9]), leaf(ws, [32, 16, 3, 3]), leaf(bs, [32]), dy);

  for (const memoryFormat of ['contiguous', 'channelsLast'] as const) {
    for (const dtype of ['float32', 'bfloat16'] as const) {
      test(`F.conv2d ${dtype} ${memoryFormat}: output and gradients in the input's dtype and format`, () => {
        const x = Tensor.fromArray(xs, [2, 16, 9, 9]).to({ dtype, memoryFormat });
        x.requiresGrad = true;
        const w = Tensor.fromArray(ws, [32, 16, 3, 3]).to(dtype);
        w.requiresGrad = true;
        const b = Tensor.fromArray(bs, [32]).to(dtype);
        b.requiresGrad = true;
        const y = F.conv2d(x, w, b, { stride: 2, padding: 1 });
        expect([y.dtype, y.memoryFormat]).toEqual([dtype, memoryFormat]);
        y.backward(Tensor.fromArray(dy, y.shape));
        expect([x.grad!.dtype, x.grad!.memoryFormat]).toEqual([dtype, memoryFormat]);
        expect([w.grad!.dtype, w.grad!.memoryFormat]).toEqual([dtype, 'contiguous']);
        expect(b.grad!.dtype).toBe(dtype);
        const got = [y, x.grad!, w.grad!, b.grad!].map((t) => t.toArray());
        // float32: the same kernels up to the path (NHWC runs oneDNN on nhwc): 1e-4. bfloat16: bf16Tol.
        ['y', 'dx', 'dw', 'db'].forEach((name, i) =>
          expectClose(got[i], expected[i], dtype === 'float32' ? { atol: 1e-4, rtol: 1e-4 } : bf16Tol(expected[i]), name));
      });
    }
  }

  test('under autocast bfloat16, float32 input and weight run in bfloat16; the weight gradient is float32', () => {
    const x = leaf(xs, [2, 16, 9, 9]);
    const w = leaf(ws, [32, 16, 3, 3]);
    const b = leaf(bs, [32]);
    const y = autocast({ dtype: 'bfloat16' }, () => F.conv2d(x, w, b, { stride: 2, padding: 1 }));
    expect(y.dtype).toBe('bfloat16');
    y.backward(Tensor.fromArray(dy, y.shape));
    expect([x.grad!.dtype, w.grad!.dtype, b.grad!.dtype]).toEqual(['float32', 'float32', 'float32']);
    // The float32 gradients are bfloat16 results cast up: bf16Tol.
    expectClose(w.grad!.toArray(), expected[2], bf16Tol(expected[2]), 'dw');
  });

  test('mixed dtypes outside autocast are an error naming both', () => {
    const x = Tensor.fromArray(xs, [2, 16, 9, 9]).to('bfloat16');
    const w = Tensor.fromArray(ws, [32, 16, 3, 3]);
    expect(() => F.conv2d(x, w)).toThrow(DTypeError);
    expect(() => F.conv2d(x, w)).toThrow(/conv2d: input is bfloat16 but weight is float32/);
  });
});

describe('linear and matmul autograd in bfloat16', () => {
  const xs = roundTo(randn(6 * 20, 5), 'bfloat16');
  const ws = roundTo(randn(12 * 20, 6), 'bfloat16');
  const bs = roundTo(randn(12, 7), 'bfloat16');
  const dy = roundTo(randn(6 * 12, 8), 'bfloat16');

  function linearPass(dtype: 'float32' | 'bfloat16'): [Tensor, Tensor, Tensor, Tensor] {
    const x = Tensor.fromArray(xs, [6, 20]).to(dtype);
    const w = Tensor.fromArray(ws, [12, 20]).to(dtype);
    const b = Tensor.fromArray(bs, [12]).to(dtype);
    for (const t of [x, w, b]) t.requiresGrad = true;
    const y = F.linear(x, w, b);
    y.backward(Tensor.fromArray(dy, y.shape));
    return [y, x, w, b];
  }

  test('F.linear bfloat16: output and gradients in bfloat16, close to float32', () => {
    const [y32, x32, w32, b32] = linearPass('float32');
    const [y, x, w, b] = linearPass('bfloat16');
    expect([y.dtype, x.grad!.dtype, w.grad!.dtype, b.grad!.dtype]).toEqual(['bfloat16', 'bfloat16', 'bfloat16', 'bfloat16']);
    const pairs: [string, Tensor, Tensor][] = [['y', y, y32], ['dx', x.grad!, x32.grad!], ['dw', w.grad!, w32.grad!], ['db', b.grad!, b32.grad!]];
    for (const [name, got, want] of pairs) expectClose(got.toArray(), want.toArray(), bf16Tol(want.toArray()), name);
  });

  test('F.linear under autocast bfloat16: float32 weight gets a float32 gradient', () => {
    const x = leaf(xs, [6, 20]);
    const w = leaf(ws, [12, 20]);
    const y = autocast({ dtype: 'bfloat16' }, () => F.linear(x, w));
    expect(y.dtype).toBe('bfloat16');
    y.backward(Tensor.fromArray(dy, y.shape));
    expect([x.grad!.dtype, w.grad!.dtype]).toEqual(['float32', 'float32']);
  });

  test('F.linear mixed dtypes outside autocast: error naming both', () => {
    const x = Tensor.fromArray(xs, [6, 20]).to('bfloat16');
    expect(() => F.linear(x, Tensor.fromArray(ws, [12, 20]))).toThrow(/linear: x is bfloat16 but weight is float32/);
  });

  test('F.matmul on a channelsLast 4-D bfloat16 input: contiguous bfloat16 result equal to the contiguous one', () => {
    const a = Tensor.fromArray(roundTo(randn(2 * 3 * 4 * 5, 9), 'bfloat16'), [2, 3, 4, 5]).to('bfloat16');
    const b = Tensor.fromArray(roundTo(randn(5 * 6, 10), 'bfloat16'), [5, 6]).to('bfloat16');
    const want = F.matmul(a, b);
    const got = F.matmul(a.to({ memoryFormat: 'channelsLast' }), b);
    expect([got.dtype, got.memoryFormat]).toEqual(['bfloat16', 'contiguous']);
    expectClose(got.toArray(), want.toArray(), { atol: 0, rtol: 0 }, 'matmul');
  });
});
