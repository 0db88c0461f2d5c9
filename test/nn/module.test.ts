// Module semantics as PyTorch: dotted parameter names in registration order, train/eval
// propagation, stateDict round trips, strict loading that reports every problem at once.
import { describe, expect, test } from 'vitest';
import { F, StateDictError, Tensor, manualSeed, nn, scope } from '../../src/index';

function smallNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.Sequential(['pool', new nn.AdaptiveAvgPool2d(1)], ['flat', new nn.Flatten()]),
    new nn.Linear(4, 2),
  );
}

describe('Module', () => {
  test('namedParameters and stateDict keys follow PyTorch (Sequential of conv, bn, relu, nested, linear)', () => {
    const m = smallNet();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '4.weight', '4.bias']);
    expect([...m.stateDict().keys()]).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '4.weight', '4.bias',
    ]);
    expect(m.numParameters()).toBe(4 * 3 * 9 + 4 + 4 + 4 + 8 + 2);
    expect(m.parameters().map((p) => p.role)).toEqual(['weight', 'bias', 'norm_scale', 'norm_shift', 'weight', 'bias']);
    m.dispose();
  });

  test('train/eval propagate to every submodule', () => {
    const m = smallNet();
    m.eval();
    expect([...m.namedModules()].every(([, c]) => !c.training)).toBe(true);
    m.train();
    expect([...m.namedModules()].every(([, c]) => c.training)).toBe(true);
    m.dispose();
  });

  test('stateDict round trip into a differently initialized model gives identical outputs', () =>
    scope(() => {
      manualSeed(1);
      const a = smallNet().eval();
      manualSeed(2);
      const b = smallNet().eval();
      const x = Tensor.fromArray(Array.from({ length: 2 * 3 * 5 * 5 }, (_, i) => Math.sin(i)), [2, 3, 5, 5]);
      expect(Array.from(a.call(x).toArray())).not.toEqual(Array.from(b.call(x).toArray()));
      b.loadStateDict(a.stateDict());
      expect(Array.from(b.call(x).toArray())).toEqual(Array.from(a.call(x).toArray()));
      a.dispose();
      b.dispose();
    }));

  test('strict loadStateDict reports missing, unexpected and mis-shaped keys together and changes nothing', () =>
    scope(() => {
      const m = smallNet();
      const before = m.stateDict().get('4.weight')!.toArray();
      const sd = new Map(m.stateDict());
      sd.delete('0.bias');
      sd.set('extra.weight', Tensor.zeros([1]));
      sd.set('4.weight', Tensor.zeros([3, 4]));
      let error: unknown;
      try {
        m.loadStateDict(sd);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StateDictError);
      const err = error as StateDictError;
      expect(err.code).toBe('ERR_STATE_DICT');
      expect(err.problems).toEqual([
        'size mismatch for 4.weight: copying a param with shape [3, 4], the shape in the current model is [2, 4]',
        'missing key: 0.bias',
        'unexpected key: extra.weight',
      ]);
      expect(err.message).toContain('Sequential');
      expect(Array.from(m.stateDict().get('4.weight')!.toArray())).toEqual(Array.from(before));
      m.dispose();
    }));

  test('non-strict loading returns missing and unexpected keys', () =>
    scope(() => {
      const m = smallNet();
      const sd = new Map([['4.bias', Tensor.fromArray([5, 6])], ['nope', Tensor.zeros([1])]]);
      const result = m.loadStateDict(sd, false);
      expect(result.unexpectedKeys).toEqual(['nope']);
      expect(result.missingKeys).toContain('0.weight');
      expect(Array.from(m.stateDict().get('4.bias')!.toArray())).toEqual([5, 6]);
      m.dispose();
    }));

  test('zeroGrad drops gradients; BatchNorm counts batches in training mode only', () =>
    scope(() => {
      const m = smallNet();
      const x = Tensor.fromArray(Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => Math.cos(i)), [2, 3, 4, 4]);
      F.sum(m.call(x)).backward();
      expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
      m.zeroGrad();
      expect(m.parameters().every((p) => p.grad === null)).toBe(true);
      const bn = m.at(1) as nn.BatchNorm2d;
      expect(bn.numBatchesTracked).toBe(1);
      m.eval();
      m.call(x);
      expect(bn.numBatchesTracked).toBe(1);
      m.dispose();
    }));

  test('Dropout is identity in eval mode and zeroes about p of the values in training', () =>
    scope(() => {
      manualSeed(3);
      const d = new nn.Dropout(0.25);
      const x = Tensor.ones([4000]);
      const y = d.call(x).toArray();
      const zeros = y.filter((v) => v === 0).length;
      expect(Math.abs(zeros / 4000 - 0.25)).toBeLessThan(0.03);
      expect(y.filter((v) => v !== 0).every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
      d.eval();
      expect(d.call(x)).toBe(x);
    }));
});
