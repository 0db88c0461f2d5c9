// Errors: shape, dtype and device mismatches, disposed tensors and bad arguments each throw a
// LayerwiseError subclass with a `code`, and the message names the op and the shapes.
import { describe, expect, test } from 'vitest';
import {
  ArgumentError, DTypeError, DisposedError, F, NativeError, ShapeError, StateDictError, Tensor, nn, scope,
} from '../../src/index';

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('errors name the op and the shapes', () => {
  test('shape mismatch: linear input [2, 5] with weight [3, 4]', () =>
    scope(() => {
      const e = thrown(() => F.linear(Tensor.zeros([2, 5]), Tensor.zeros([3, 4])));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.code).toBe('ERR_SHAPE');
      expect(e.message).toBe('linear: input [2, 5] does not match weight [3, 4]');
    }));

  test('shape mismatch: conv2d channels and non-broadcastable add', () =>
    scope(() => {
      const e = thrown(() => F.conv2d(Tensor.zeros([1, 3, 5, 5]), Tensor.zeros([4, 2, 3, 3])));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toContain('conv2d');
      expect(e.message).toContain('[1, 3, 5, 5]');
      expect(e.message).toContain('[4, 2, 3, 3]');
      const e2 = thrown(() => F.add(Tensor.zeros([2, 3]), Tensor.zeros([4])));
      expect(e2.message).toBe('add: shapes [2, 3] and [4] cannot be broadcast together');
    }));

  test('dtype mismatch: relu of an int32 tensor, cross entropy with uint8 labels', () =>
    scope(() => {
      const e = thrown(() => F.relu(Tensor.zeros([3], { dtype: 'int32' })));
      expect(e).toBeInstanceOf(DTypeError);
      expect(e.code).toBe('ERR_DTYPE');
      expect(e.message).toBe('relu: input must be a floating-point tensor (float32, bfloat16, float16), got int32 of shape [3]');
      const e2 = thrown(() => F.crossEntropy(Tensor.zeros([2, 3]), Tensor.zeros([2], { dtype: 'uint8' })));
      expect(e2).toBeInstanceOf(DTypeError);
    }));

  test('disposed tensor: using it names the op', () => {
    const t = Tensor.zeros([2, 2]);
    t.dispose();
    const e = thrown(() => F.relu(t));
    expect(e).toBeInstanceOf(DisposedError);
    expect(e.code).toBe('ERR_DISPOSED');
    expect(e.message).toBe('relu: tensor of shape [2, 2] was disposed');
    t.dispose();
  });

  test('bad arguments: negative padding, dropout p, reshape to the wrong size', () =>
    scope(() => {
      const e = thrown(() => new nn.Conv2d(3, 4, 3, { padding: -1 }));
      expect(e).toBeInstanceOf(ArgumentError);
      expect(e.code).toBe('ERR_INVALID_ARGUMENT');
      expect(e.message).toContain('padding');
      expect(thrown(() => new nn.Dropout(1.5))).toBeInstanceOf(ArgumentError);
      const e3 = thrown(() => Tensor.zeros([2, 3]).reshape([4, 2]));
      expect(e3).toBeInstanceOf(ShapeError);
      expect(e3.message).toContain('[2, 3]');
    }));

  test('native errors carry code and op: a label outside the classes', () =>
    scope(() => {
      const e = thrown(() => F.crossEntropy(Tensor.zeros([2, 3]), Tensor.fromArray([0, 7], [2], { dtype: 'int32' })));
      expect(e).toBeInstanceOf(NativeError);
      expect((e as NativeError).op).toBe('cross_entropy_forward');
      expect(e.code).toBe('ERR_NATIVE_INVALID_ARGUMENT');
      expect(e.message).toContain('7');
    }));

  test('native boundary: a too-small buffer is rejected before the kernel runs, naming the argument', async () => {
    const { kernels, addon } = await import('../../src/native/addon');
    const small = new addon.NativeBuffer(0, 8);
    const e = thrown(() => kernels.relu_forward(small, small, 'float32', 4));
    expect(e).toBeInstanceOf(NativeError);
    expect(e.code).toBe('ERR_SHAPE');
    expect(e.message).toBe('relu_forward: y (n) = (4) needs 16 bytes but its buffer holds 8');
    const e2 = thrown(() => kernels.relu_forward(small, small, 'float32', 1.5));
    expect(e2.code).toBe('ERR_INVALID_ARGUMENT');
    const e3 = thrown(() => (kernels.relu_forward as unknown as (...a: unknown[]) => void)(small, 3));
    expect(e3.message).toContain('expected 4 arguments');
    const e5 = thrown(() => kernels.conv2d_forward(small, small, small, 'float32', 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, false));
    expect(e5.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e5.message).toBe('conv2d_forward: groups must be positive, got 0');
    const e6 = thrown(() => kernels.relu_forward(small, small, 'float32', 2 ** 52));
    expect(e6.code).toBe('ERR_SHAPE');
    const e7 = thrown(() => kernels.conv2d_forward(small, small, small, 'float32', 2 ** 40, 1, 1, 1, 2 ** 30, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, false));
    expect(e7.message).toContain('overflows');
    small.free();
    const e4 = thrown(() => kernels.relu_forward(small, small, 'float32', 1));
    expect(e4.code).toBe('ERR_DISPOSED');
  });

  test('every error class is a StateDictError/LayerwiseError with a code', () => {
    const e = new StateDictError('x', ['a']);
    expect(e.code).toBe('ERR_STATE_DICT');
    expect(e.name).toBe('StateDictError');
  });
});
