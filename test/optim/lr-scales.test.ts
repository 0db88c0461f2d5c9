// The device lr_scales arrays of the fused steps (src/optim/lr-scales.ts): an unchanged list of
// multipliers reuses its array (no new buffer, same NativeBuffer), a changed one is rewritten in
// the least recently used array once the cache is full, and the optimizer's lr / lrScales split
// gives every tensor group lr * eta (two groups with different lrs, eta on some tensors).
import { describe, expect, test } from 'vitest';
import { memory } from '../../src/memory';
import { Parameter } from '../../src/nn/parameter';
import { LrScaleCache } from '../../src/optim/lr-scales';
import { SGD } from '../../src/optim/sgd';
import { Tensor } from '../../src/tensor';
import { kernels } from '../../src/native/addon';

function read(buf: ReturnType<LrScaleCache['get']>, n: number): number[] {
  const out = new Float32Array(n);
  kernels.copy_to_host(out, buf, 4 * n);
  return Array.from(out);
}

describe('LrScaleCache', () => {
  test('the same multipliers give the same array; new ones reuse the oldest array when full', () => {
    const cache = new LrScaleCache(2);
    const start = memory().liveBuffers;
    const a = cache.get([1, 0.5], 'cpu');
    expect(cache.get([1, 0.5], 'cpu')).toBe(a);
    expect(read(a, 2)).toEqual([1, 0.5]);
    const b = cache.get([2, 0.25], 'cpu');
    expect(b).not.toBe(a);
    expect(memory().liveBuffers).toBe(start + 2);
    const c = cache.get([3, 4], 'cpu');  // full: [1, 0.5] (least recently used) is rewritten
    expect(c).toBe(a);
    expect(read(c, 2)).toEqual([3, 4]);
    expect(memory().liveBuffers).toBe(start + 2);
    cache.dispose();
    expect(memory().liveBuffers).toBe(start);
  });

  test('a failed step keeps no new array: discardSince(mark)', () => {
    const cache = new LrScaleCache();
    const start = memory().liveBuffers;
    cache.get([1], 'cpu');
    const mark = cache.mark();
    cache.get([2], 'cpu');
    cache.discardSince(mark);
    expect(memory().liveBuffers).toBe(start + 1);
    cache.dispose();
  });
});

test('SGD with two groups and eta: each tensor steps by group lr * eta; steps allocate nothing after the first', () => {
  const ps = [0, 1, 2].map(() => {
    const p = new Parameter([2], 'other');
    p.copyFromHost(new Float32Array([1, 1]));
    return p;
  });
  const opt = new SGD([{ params: [ps[0], ps[1]], lr: 0.5 }, { params: [ps[2]], lr: 0.25 }], { lr: 0.5 });
  opt.setEta(new Map([[ps[1], 0.5]]));
  const live: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (const p of ps) p.grad = Tensor.fromArray([1, 2]);
    opt.step();
    opt.zeroGrad();
    live.push(memory().liveBuffers);
  }
  // lr_t: 0.5, 0.25, 0.25 (lr 0.5, scales 1, 0.5, 0.5), three steps of g = [1, 2].
  expect(Array.from(ps[0].toArray())).toEqual([1 - 3 * 0.5, 1 - 3 * 1]);
  expect(Array.from(ps[1].toArray())).toEqual([1 - 3 * 0.25, 1 - 3 * 0.5]);
  expect(Array.from(ps[2].toArray())).toEqual([1 - 3 * 0.25, 1 - 3 * 0.5]);
  expect(live[1]).toBe(live[0]);
  expect(live[2]).toBe(live[0]);
  opt.dispose();
  for (const p of ps) p.dispose();
});
