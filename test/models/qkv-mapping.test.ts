// The q/k/v state mapping: timm's fused `qkv` (weight (3*dim, dim), bias (3*dim)) splits into
// `q`, `k`, `v` in that order on import and fuses back bit for bit on export; other keys pass.
import { describe, expect, test } from 'vitest';
import { QKV_SPLIT_MAPPING } from '../../src/models/weights';
import { Tensor, scope } from '../../src/index';

describe('QKV_SPLIT_MAPPING', () => {
  test('split on import, fused on export, exact; other keys untouched', () =>
    scope(() => {
      const w = Tensor.fromArray(Array.from({ length: 12 }, (_, i) => i), [6, 2]);
      const b = Tensor.fromArray([10, 11, 12, 13, 14, 15], [6]);
      const other = Tensor.fromArray([7], [1]);
      const mine = QKV_SPLIT_MAPPING.importState(new Map([['blocks.0.attn.qkv.weight', w], ['blocks.0.attn.qkv.bias', b], ['norm.weight', other]]));
      expect([...mine.keys()].sort()).toEqual(['blocks.0.attn.k.bias', 'blocks.0.attn.k.weight', 'blocks.0.attn.q.bias', 'blocks.0.attn.q.weight', 'blocks.0.attn.v.bias', 'blocks.0.attn.v.weight', 'norm.weight']);
      expect(Array.from(mine.get('blocks.0.attn.k.weight')!.toArray())).toEqual([4, 5, 6, 7]);
      expect(Array.from(mine.get('blocks.0.attn.v.bias')!.toArray())).toEqual([14, 15]);
      expect(mine.get('norm.weight')).toBe(other);
      const back = QKV_SPLIT_MAPPING.exportState(mine);
      expect([...back.keys()].sort()).toEqual(['blocks.0.attn.qkv.bias', 'blocks.0.attn.qkv.weight', 'norm.weight']);
      expect(Array.from(back.get('blocks.0.attn.qkv.weight')!.toArray())).toEqual(Array.from(w.toArray()));
      expect(back.get('blocks.0.attn.qkv.weight')!.shape).toEqual([6, 2]);
      expect(() => QKV_SPLIT_MAPPING.exportState(new Map([['a.q.weight', other]]))).toThrow(/partner is missing/);
    }));
});
