// Tests of src/data/image/sample.ts on images the tests generate with sharp: the evaluation
// transform's geometry (Resize 256 + CenterCrop 224, Python rounding), the training crop's
// geometry read back from a position-coded gradient (with and without JPEG shrink-on-load), the
// flip, determinism per seed, the buffer offset, and the spec helpers.
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors';
import { jpegShrinkFor, loadSample, parseAug, sampleSpecs, TrainSampleSpec } from '../../src/data/image/sample';

const dir = mkdtempSync(join(tmpdir(), 'image-sample-'));

/** R = 255 x / (W - 1), G = 255 y / (H - 1), B = 77: a pixel's colour says where it came from. */
function gradient(width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      px[o] = Math.round((255 * x) / (width - 1));
      px[o + 1] = Math.round((255 * y) / (height - 1));
      px[o + 2] = 77;
    }
  }
  return px;
}

async function write(name: string, width: number, height: number, fmt: 'png' | 'jpeg'): Promise<string> {
  const img = sharp(gradient(width, height), { raw: { width, height, channels: 3 } });
  const buf = fmt === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: 95 }).toBuffer();
  const file = join(dir, name);
  writeFileSync(file, buf);
  return file;
}

/**
 * Mean |R - expected| and |G - expected| over the output, where output pixel (i, j) should come
 * from source (box.left + (j + .5) w / size - .5, box.top + (i + .5) h / size - .5).
 */
function geometryError(out: Uint8Array, size: number, box: { left: number; top: number; width: number; height: number }, W: number, H: number, flipped: boolean): number {
  let err = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const jj = flipped ? size - 1 - j : j;
      const sx = box.left + ((jj + 0.5) * box.width) / size - 0.5;
      const sy = box.top + ((i + 0.5) * box.height) / size - 0.5;
      const ex = (255 * Math.min(W - 1, Math.max(0, sx))) / (W - 1);
      const ey = (255 * Math.min(H - 1, Math.max(0, sy))) / (H - 1);
      const o = (i * size + j) * 3;
      err += Math.abs(out[o] - ex) + Math.abs(out[o + 1] - ey);
    }
  }
  return err / (2 * size * size);
}

let png500: string;
let jpg2000: string;
beforeAll(async () => {
  png500 = await write('grad500.png', 500, 375, 'png');
  jpg2000 = await write('grad2000.JPEG', 2000, 1500, 'jpeg');
});

describe('sampleSpecs and parseAug', () => {
  it('the ImageNet recipe: 224, scale [0.08, 1], ratio [3/4, 4/3], flip 0.5, eval resize 256', () => {
    const { train, eval: ev } = sampleSpecs({ aug: 'basic' });
    expect(train).toMatchObject({ kind: 'train', size: 224, scale: [0.08, 1], ratio: [3 / 4, 4 / 3], flipP: 0.5, randAugment: null, maxPixels: 100_000_000 });
    expect(ev).toEqual({ kind: 'eval', size: 224, resize: 256, maxPixels: 100_000_000 });
    expect(sampleSpecs({ aug: 'strong' }).train.randAugment).toEqual({ n: 2, m: 10, p: 0.5, mstd: 0 });
    expect(sampleSpecs({ aug: 'basic', size: 160, cropFraction: 0.95 }).eval.resize).toBe(168);
    expect(() => sampleSpecs({ aug: 'basic', cropFraction: 1.5 })).toThrow(/cropFraction/);
  });

  it("parseAug accepts 'basic' and 'strong'; anything else names --aug", () => {
    expect(parseAug('basic')).toBe('basic');
    expect(parseAug('strong')).toBe('strong');
    expect(() => parseAug('medium')).toThrow(ArgumentError);
    expect(() => parseAug('medium')).toThrow(/--aug/);
  });
});

describe('jpegShrinkFor', () => {
  it("sharp's libjpeg shrink for a reduction f: 8/4/2 at f >= 8/4/2, halved when floor(f) equals it", () => {
    const f = [1, 2, 2.9, 3, 3.99, 4, 4.9, 5, 7.9, 8, 8.9, 9, 20];
    expect(f.map(jpegShrinkFor)).toEqual([1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 8, 8]);
  });
});

describe('loadSample: evaluation transform', () => {
  it('500x375: resized to 341x256, centre crop at (58, 16) (round half to even of 58.5), geometry within 0.3 level (a 1-pixel shift costs 0.25)', async () => {
    const out = new Uint8Array(224 * 224 * 3 + 10);
    const info = await loadSample(png500, sampleSpecs({ aug: 'basic' }).eval, 1, out, 10);
    expect(info.width).toBe(500);
    expect(info.height).toBe(375);
    expect(info.flipped).toBe(false);
    expect(info.box.left).toBeCloseTo((58 * 500) / 341, 9);
    expect(info.box.top).toBeCloseTo((16 * 375) / 256, 9);
    expect(info.box.width).toBeCloseTo((224 * 500) / 341, 9);
    expect(Array.from(out.subarray(0, 10))).toEqual(new Array(10).fill(0));
    // Box in resized coordinates, mapped back: the resize maps centres, so the same formula holds.
    const err = geometryError(out.subarray(10), 224, info.box, 500, 375, false);
    expect(err).toBeLessThan(0.3);
  });

  it('a large JPEG (2000x1500, shrink-on-load): geometry within 0.6 level (JPEG noise alone: 0.4)', async () => {
    const out = new Uint8Array(224 * 224 * 3);
    const info = await loadSample(jpg2000, sampleSpecs({ aug: 'basic' }).eval, 1, out, 0);
    expect(geometryError(out, 224, info.box, 2000, 1500, false)).toBeLessThan(0.6);
  });
});

describe('loadSample: training transform', () => {
  const train = sampleSpecs({ aug: 'basic' }).train;

  it('the crop read back from the gradient matches the reported box (PNG, exact extract path; within 0.4 level, a 1-pixel shift costs 0.25)', async () => {
    const out = new Uint8Array(224 * 224 * 3);
    for (let seed = 0; seed < 6; seed++) {
      const info = await loadSample(png500, train, seed, out, 0);
      expect(info.box.left + info.box.width).toBeLessThanOrEqual(500);
      expect(info.box.top + info.box.height).toBeLessThanOrEqual(375);
      expect(geometryError(out, 224, info.box, 500, 375, info.flipped)).toBeLessThan(0.4);
    }
  });

  it('large JPEG with and without shrink-on-load: same geometry, outputs within 2 levels on average', async () => {
    const a = new Uint8Array(224 * 224 * 3);
    const b = new Uint8Array(224 * 224 * 3);
    const noShrink: TrainSampleSpec = { ...train, shrinkOnLoad: false };
    let shrunk = 0;
    for (let seed = 0; seed < 6; seed++) {
      const ia = await loadSample(jpg2000, train, seed, a, 0);
      const ib = await loadSample(jpg2000, noShrink, seed, b, 0);
      expect(ia.box).toEqual(ib.box);
      if (Math.min(ia.box.width, ia.box.height) >= 3 * 224) shrunk++;
      expect(geometryError(a, 224, ia.box, 2000, 1500, ia.flipped)).toBeLessThan(0.75);
      expect(geometryError(b, 224, ib.box, 2000, 1500, ib.flipped)).toBeLessThan(0.6);
      let d = 0;
      for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
      expect(d / a.length).toBeLessThan(2);
    }
    expect(shrunk).toBeGreaterThan(0);
  });

  it('same seed, same bytes; another seed, another crop', async () => {
    const a = new Uint8Array(224 * 224 * 3);
    const b = new Uint8Array(224 * 224 * 3);
    const ia = await loadSample(png500, train, 42, a, 0);
    const ib = await loadSample(png500, train, 42, b, 0);
    expect(ib).toEqual(ia);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    const ic = await loadSample(png500, train, 43, b, 0);
    expect(ic.box).not.toEqual(ia.box);
  });

  it('flipP 1 mirrors the flipP 0 output exactly; flipP 0.5 flips about half of 40 seeds', async () => {
    const a = new Uint8Array(224 * 224 * 3);
    const b = new Uint8Array(224 * 224 * 3);
    const ia = await loadSample(png500, { ...train, flipP: 0 }, 7, a, 0);
    const ib = await loadSample(png500, { ...train, flipP: 1 }, 7, b, 0);
    expect(ia.flipped).toBe(false);
    expect(ib.flipped).toBe(true);
    expect(ib.box).toEqual(ia.box);
    for (let y = 0; y < 224; y += 37) {
      for (let x = 0; x < 224; x += 23) {
        for (let c = 0; c < 3; c++) expect(b[(y * 224 + (223 - x)) * 3 + c]).toBe(a[(y * 224 + x) * 3 + c]);
      }
    }
    let flips = 0;
    const small = { ...train, size: 16 };
    const o = new Uint8Array(16 * 16 * 3);
    for (let seed = 0; seed < 40; seed++) if ((await loadSample(png500, small, seed, o, 0)).flipped) flips++;
    expect(flips).toBeGreaterThan(10);
    expect(flips).toBeLessThan(30);
  });

  it('strong: RandAugment after crop and flip, deterministic per seed, ops reported', async () => {
    const strong = sampleSpecs({ aug: 'strong' }).train;
    const a = new Uint8Array(224 * 224 * 3);
    const b = new Uint8Array(224 * 224 * 3);
    const plain = new Uint8Array(224 * 224 * 3);
    let withOps = 0;
    for (let seed = 0; seed < 8; seed++) {
      const ia = await loadSample(png500, strong, seed, a, 0);
      const ib = await loadSample(png500, strong, seed, b, 0);
      expect(ib).toEqual(ia);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      const ip = await loadSample(png500, train, seed, plain, 0);
      expect(ip.box).toEqual(ia.box); // RandAugment draws after the crop and flip
      expect(ip.flipped).toBe(ia.flipped);
      expect(ia.ops.length).toBeLessThanOrEqual(2);
      if (ia.ops.length > 0) withOps++;
      const identityOps = ia.ops.every((op) => op === 'Solarize(256)');
      expect(Buffer.from(a).equals(Buffer.from(plain))).toBe(identityOps);
    }
    expect(withOps).toBeGreaterThan(2);
  });

  it('an output slot that does not fit the buffer is an ArgumentError naming the file', async () => {
    await expect(loadSample(png500, train, 0, new Uint8Array(224 * 224 * 3), 1)).rejects.toThrow(/grad500\.png.*do not fit/);
  });
});
