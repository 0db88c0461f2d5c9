// F.toNhwc / F.fromNhwc (src/autograd/ops/shape.ts): the values of x.permute(0, 2, 3, 1) and
// y.permute(0, 3, 1, 2); no copy where the memory already is NHWC (toNhwc of a channelsLast
// tensor, every fromNhwc: they share the input's memory); the gradient in the input's format;
// finite-difference gradchecks (float32, the tolerances of test/helpers/gradcheck.ts), with
// each input contiguous and channels-last.
import { describe, expect, test } from 'vitest';
import * as F from '../../src/functional';
import { scope } from '../../src/index';
import { gradcheck, leaf } from '../helpers/gradcheck';

describe('toNhwc / fromNhwc', () => {
  test('values equal permute, channelsLast memory is shared (no copy), fromNhwc gives channelsLast', () =>
    scope(() => {
      const x = leaf([2, 3, 4, 5], 1);
      const ref = F.permute(x, [0, 2, 3, 1]).toArray();
      expect(F.toNhwc(x).toArray()).toEqual(ref);
      const xl = x.to({ memoryFormat: 'channelsLast' });
      const v = F.toNhwc(xl);
      expect(v.shape).toEqual([2, 4, 5, 3]);
      expect(v.memoryFormat).toBe('contiguous');
      expect(v.toArray()).toEqual(ref);
      expect(v.buffer).toBe(xl.buffer);
      const back = F.fromNhwc(v);
      expect(back.shape).toEqual([2, 3, 4, 5]);
      expect(back.memoryFormat).toBe('channelsLast');
      expect(back.contiguous().toArray()).toEqual(x.toArray());
    }));

  test('gradients: input format kept', () =>
    scope(() => {
      for (const format of ['contiguous', 'channelsLast'] as const) {
        const x = leaf([2, 3, 2, 4], 2).to({ memoryFormat: format }).detach();
        x.requiresGrad = true;
        F.sum(F.mul(F.toNhwc(x), leaf([3], 3))).backward();
        expect(x.grad!.memoryFormat, format).toBe(format);
      }
    }));

  test('gradcheck', () =>
    scope(() => {
      gradcheck('toNhwc', (x) => F.toNhwc(x), [leaf([2, 3, 2, 4], 4)]);
      gradcheck('toNhwc channelsLast', (x) => F.toNhwc(x.to({ memoryFormat: 'channelsLast' })), [leaf([2, 3, 2, 4], 5)]);
      gradcheck('fromNhwc', (y) => F.fromNhwc(y), [leaf([2, 2, 4, 3], 6)]);
      gradcheck('fromNhwc then contiguous', (y) => F.fromNhwc(y).contiguous(), [leaf([2, 2, 4, 3], 7)]);
    }));
});
