// autocast's semantics (PyTorch's torch.autocast): the low-precision list (linear, matmul, conv2d)
// runs in the autocast dtype, the float32 list (softmax, cross-entropy, layer norm, sum/mean) in
// float32, other ops in their inputs' dtype; nested calls take the innermost setting, enabled:false
// turns it off inside, the state is restored after fn (also when it throws), parameters keep
// float32 gradients, and 'bf16' / 'fp16' are accepted as aliases.
import { describe, expect, test } from 'vitest';
import { autocast, autocastDType } from '../../src/autocast';
import { F, Tensor, nn, scope } from '../../src/index';

describe('autocast', () => {
  test('op lists: linear in bfloat16, softmax and cross-entropy in float32, relu in its input dtype; float32 weight gradients', () =>
    scope(() => {
      const lin = new nn.Linear(6, 4);
      const x = Tensor.fromArray(Array.from({ length: 18 }, (_, i) => Math.sin(i)), [3, 6]);
      const { y, r, p, loss } = autocast({ dtype: 'bfloat16' }, () => {
        const y = lin.call(x);
        const r = F.relu(y);
        return { y, r, p: F.softmax(y), loss: F.crossEntropy(r, Tensor.fromArray([0, 1, 3], [3], { dtype: 'int32' })) };
      });
      expect([y.dtype, r.dtype, p.dtype, loss.dtype]).toEqual(['bfloat16', 'bfloat16', 'float32', 'float32']);
      loss.backward();
      expect(lin.weight.grad!.dtype).toBe('float32');
      expect(lin.bias!.grad!.dtype).toBe('float32');
      lin.dispose();
    }));

  test('nesting, enabled: false, aliases, restore after a throw, bad dtypes', () => {
    expect(autocastDType()).toBeNull();
    autocast({ dtype: 'bf16' }, () => {
      expect(autocastDType()).toBe('bfloat16');
      autocast({ dtype: 'fp16' }, () => expect(autocastDType()).toBe('float16'));
      autocast({ dtype: 'bfloat16', enabled: false }, () => expect(autocastDType()).toBeNull());
      expect(autocastDType()).toBe('bfloat16');
    });
    expect(() => autocast({ dtype: 'float16' }, () => {
      throw new Error('inside');
    })).toThrow('inside');
    expect(autocastDType()).toBeNull();
    expect(() => autocast({ dtype: 'float64' as never }, () => 0)).toThrow(/autocast: dtype must be 'bfloat16'/);
  });

  test('outside autocast mixed dtypes in linear are an error naming both', () =>
    scope(() => {
      const lin = new nn.Linear(2, 2);
      const x = Tensor.fromArray([1, 2], [1, 2], { dtype: 'bfloat16' });
      expect(() => lin.call(x)).toThrow(/bfloat16.*float32|float32.*bfloat16/);
      lin.dispose();
    }));
});
