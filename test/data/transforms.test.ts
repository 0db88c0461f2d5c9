// Tests of src/data/transforms.ts: spec parsing, crop and flip on tiny known images, the batch
// transform against a plain reference (pad with zeros, cut, mirror) replaying the documented draw
// order, the reach of the random offsets, the flip rate, and determinism per seed.
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors';
import {
  applyTransform, cropSample, flipSample, formatTransform, parseTransform, transformedDims,
} from '../../src/data/transforms';
import { Generator } from '../../src/random';
import { pixelBytes } from './formats';

describe('parseTransform', () => {
  it("'crop32-pad4,flip', 'flip', 'crop28', 'none' and '' parse and format back", () => {
    expect(parseTransform('crop32-pad4,flip').ops).toEqual([{ kind: 'crop', size: 32, padding: 4 }, { kind: 'flip', p: 0.5 }]);
    expect(parseTransform('crop28').ops).toEqual([{ kind: 'crop', size: 28, padding: 0 }]);
    expect(parseTransform('none').ops).toEqual([]);
    expect(parseTransform('').ops).toEqual([]);
    for (const s of ['crop32-pad4,flip', 'flip', 'crop28', 'none', 'flip,crop24-pad2']) expect(formatTransform(parseTransform(s))).toBe(s);
  });

  it('unknown op and two crops are ArgumentErrors listing the accepted forms', () => {
    expect(() => parseTransform('crop32-pad4,rotate')).toThrow(ArgumentError);
    expect(() => parseTransform('crop32-pad4,rotate')).toThrow(/unknown op 'rotate' \(accepted: 'none', or ops joined by ','/);
    expect(() => parseTransform('crop32,crop30')).toThrow(/at most one crop/);
  });

  it('transformedDims: crop32-pad4 of 28x28 gives 32x32; a crop larger than the padded image fails', () => {
    expect(transformedDims(parseTransform('crop32-pad4'), { channels: 1, height: 28, width: 28 })).toEqual({ channels: 1, height: 32, width: 32 });
    expect(() => transformedDims(parseTransform('crop40-pad2'), { channels: 3, height: 32, width: 32 })).toThrow(/does not fit 32x32/);
  });
});

describe('crop and flip on tiny known images', () => {
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]); // (1, 3, 3)
  const dims = { channels: 1, height: 3, width: 3 };
  const crop = (top: number, left: number, size = 3): number[] => {
    const out = new Uint8Array(size * size).fill(99);
    cropSample(img, 0, dims, out, 0, size, top, left);
    return [...out];
  };

  it('cropSample size 3 at (-1, -1), (1, 0), (0, 2), (3, 0) and size 2 at (1, 1)', () => {
    expect(crop(-1, -1)).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]);
    expect(crop(1, 0)).toEqual([4, 5, 6, 7, 8, 9, 0, 0, 0]);
    expect(crop(0, 2)).toEqual([3, 0, 0, 6, 0, 0, 9, 0, 0]);
    expect(crop(3, 0)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(crop(1, 1, 2)).toEqual([5, 6, 8, 9]);
  });

  it('flipSample mirrors every row of every channel, in place', () => {
    const x = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // (2, 2, 3)
    flipSample(x, 0, { channels: 2, height: 2, width: 3 });
    expect([...x]).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
  });
});

/** Reference: pad with zeros, cut at (top, left) of the padded image, mirror when drawn. */
function reference(x: Uint8Array, n: number, c: number, h: number, size: number, pad: number, seed: number): Uint8Array {
  const gen = new Generator(seed);
  const out = new Uint8Array(n * c * size * size);
  const ph = h + 2 * pad;
  for (let i = 0; i < n; i++) {
    const top = gen.int(ph - size + 1);
    const left = gen.int(ph - size + 1);
    const flip = gen.next() < 0.5;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < size; y++) {
        for (let xo = 0; xo < size; xo++) {
          const px = flip ? size - 1 - xo : xo;
          const sy = top + y - pad;
          const sx = left + px - pad;
          const inside = sy >= 0 && sy < h && sx >= 0 && sx < h;
          out[((i * c + ch) * size + y) * size + xo] = inside ? x[((i * c + ch) * h + sy) * h + sx] : 0;
        }
      }
    }
  }
  return out;
}

describe('applyTransform on batches', () => {
  const n = 64;
  const dims = { channels: 3, height: 8, width: 8 };
  const batch = (): Uint8Array => pixelBytes(n * 3 * 64, 5);

  it('crop8-pad2,flip of (64, 3, 8, 8) equals the pad-cut-mirror reference with the same seed', () => {
    const t = parseTransform('crop8-pad2,flip');
    const { data, dims: out } = applyTransform(t, batch(), n, dims, new Generator(7));
    expect(out).toEqual(dims);
    expect(data).toEqual(reference(batch(), n, 3, 8, 8, 2, 7));
  });

  it('crop6-pad0 (no padding) equals the reference', () => {
    const t = parseTransform('crop6,flip');
    const { data } = applyTransform(t, batch(), n, dims, new Generator(3));
    expect(data).toEqual(reference(batch(), n, 3, 8, 6, 0, 3));
  });

  it('crop9-pad8 of 1x1 images (9 offsets per axis): the pixel lands on each of the 9 rows and 9 columns; flip p=0.5 flips 400..600 of 1000', () => {
    const m = 1000;
    const one = { channels: 1, height: 1, width: 1 };
    const { data } = applyTransform(parseTransform('crop9-pad8'), new Uint8Array(m).fill(255), m, one, new Generator(11));
    const rows = new Set<number>();
    const cols = new Set<number>();
    for (let i = 0; i < m; i++) {
      const at = data.subarray(i * 81, (i + 1) * 81).indexOf(255);
      rows.add(Math.floor(at / 9));
      cols.add(at % 9);
    }
    expect([rows.size, cols.size]).toEqual([9, 9]);
    const pairs = Uint8Array.from({ length: 2 * m }, (_, i) => i % 2);
    applyTransform(parseTransform('flip'), pairs, m, { channels: 1, height: 1, width: 2 }, new Generator(12));
    const flipped = pairs.filter((v, i) => i % 2 === 0 && v === 1).length;
    expect(flipped).toBeGreaterThan(400);
    expect(flipped).toBeLessThan(600);
  });

  it('flip alone works in place on the input', () => {
    const x = batch();
    const { data } = applyTransform(parseTransform('flip'), x, n, dims, new Generator(1));
    expect(data).toBe(x);
  });

  it('determinism: the same seed gives the same bytes, another seed different ones', () => {
    const t = parseTransform('crop8-pad2,flip');
    const a = applyTransform(t, batch(), n, dims, new Generator(42)).data;
    const b = applyTransform(t, batch(), n, dims, new Generator(42)).data;
    const c = applyTransform(t, batch(), n, dims, new Generator(43)).data;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});
