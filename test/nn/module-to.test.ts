// Module.to as PyTorch's module.to: the device move keeps tensor identity (so an optimizer built
// before still holds them); an unavailable device is a clear error that leaves the module usable
// on its device; to({ memoryFormat: 'channelsLast' }) makes the model run its 4-D activations in
// NHWC with parameter shapes and state-dict names unchanged and the same outputs (float32
// rounding of reordered sums: rtol 1e-5); BatchNorm's host batch counter lands in the state dict.
import { describe, expect, test } from 'vitest';
import { Tensor, nn, scope } from '../../src/index';
import { smallCnn } from '../../src/models/cnn';
import { expectClose } from '../helpers/compare';

describe('Module.to', () => {
  test("to('cpu') keeps the tensors; to('cuda') without the CUDA backend fails naming the device and changes nothing", () =>
    scope(() => {
      const model = smallCnn(1, 8, 3, 4);
      const params = model.parameters();
      expect(model.to('cpu')).toBe(model);
      expect(model.parameters()).toEqual(params);
      expect(() => model.to('cuda')).toThrow(/cuda/);
      expect(model.device).toBe('cpu');
      const y = model.call(Tensor.zeros([2, 1, 8, 8]));
      expect(y.shape).toEqual([2, 3]);
      model.dispose();
    }));

  test("to({ memoryFormat: 'channelsLast' }): NHWC activations, same names, shapes and outputs", () =>
    scope(() => {
      const model = smallCnn(1, 8, 3, 4);
      const x = Tensor.fromArray(Array.from({ length: 2 * 64 }, (_, i) => Math.cos(i)), [2, 1, 8, 8]);
      const reference = model.call(x).toArray();
      const names = [...model.stateDict()].map(([n, t]) => `${n}:${t.shape.join('x')}`);
      model.to({ memoryFormat: 'channelsLast' });
      expect([...model.stateDict()].map(([n, t]) => `${n}:${t.shape.join('x')}`)).toEqual(names);
      const conv = model.namedChildren().next().value![1] as nn.Module;
      expect(conv.call(x).memoryFormat).toBe('channelsLast');
      expectClose(model.call(x).toArray(), reference, { atol: 1e-6, rtol: 1e-5 }, 'logits NHWC vs NCHW');
      model.dispose();
    }));

  test('BatchNorm counts batches on the host and writes them into the state dict', () =>
    scope(() => {
      const bn = new nn.BatchNorm2d(2);
      for (let i = 0; i < 3; i++) bn.call(Tensor.fromArray([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]));
      expect(bn.numBatchesTracked).toBe(3);
      expect(Array.from(bn.stateDict().get('num_batches_tracked')!.toArray())).toEqual([3]);
      const other = new nn.BatchNorm2d(2);
      other.loadStateDict(bn.stateDict());
      expect(other.numBatchesTracked).toBe(3);
      bn.dispose();
      other.dispose();
    }));
});
