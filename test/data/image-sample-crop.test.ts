// Tests of src/data/image/crop.ts: torchvision's RandomResizedCrop.get_params replayed by hand
// with scripted uniforms (accepted first try, a rejected try, the 10-try centre-crop fallback for
// wide, tall and in-range images), statistics of the sampled boxes with the real generator
// (area and aspect inside the ranges, log-ratio uniform, positions uniform), Python's rounding,
// and the evaluation Resize + CenterCrop sizes.
import { describe, expect, it } from 'vitest';
import { CROP_TRIES, centerCropOffsets, pyRound, resizeShorter, sampleCropBox } from '../../src/data/image/crop';
import { Generator } from '../../src/random';

/** A Generator whose next() returns scripted values (then 0.999999), counting the draws. */
class Scripted extends Generator {
  draws = 0;
  constructor(private readonly values: number[]) {
    super(0);
  }
  override next(): number {
    const v = this.draws < this.values.length ? this.values[this.draws] : 0.999999;
    this.draws++;
    return v;
  }
}

const SCALE: [number, number] = [0.08, 1];
const RATIO: [number, number] = [3 / 4, 4 / 3];

describe('pyRound', () => {
  it('rounds half to even like Python 3', () => {
    expect([0.5, 1.5, 2.5, 58.5, 117.5, 2.4999, 2.5001, 133.333].map(pyRound)).toEqual([0, 2, 2, 58, 118, 2, 3, 133]);
  });
});

describe('sampleCropBox: hand-computed torchvision cases', () => {
  it('500x375, uniforms (.5, .5, .5, .25): area 101250, aspect 1 -> 318x318 at top 29, left 45', () => {
    const g = new Scripted([0.5, 0.5, 0.5, 0.25]);
    // target_area = 187500 * (0.08 + 0.92 * 0.5); round(sqrt(101250)) = round(318.198) = 318
    // top = floor(.5 * (375 - 318 + 1)) = 29; left = floor(.25 * (500 - 318 + 1)) = 45
    expect(sampleCropBox(500, 375, SCALE, RATIO, g)).toEqual({ left: 45, top: 29, width: 318, height: 318, tries: 1, fallback: false });
    expect(g.draws).toBe(4);
  });

  it('400x400: a first try too wide (462 > 400) is rejected; the second gives 98x131', () => {
    // try 1: area ~160000, aspect ~4/3 -> w = round(sqrt(160000 * 4/3)) = 462 > 400
    // try 2: area 12800, aspect 3/4 -> w = round(97.98) = 98, h = round(130.64) = 131
    const g = new Scripted([0.999999, 0.999999, 0, 0, 0.5, 0.5]);
    expect(sampleCropBox(400, 400, SCALE, RATIO, g)).toEqual({
      left: Math.floor(0.5 * 303), top: Math.floor(0.5 * 270), width: 98, height: 131, tries: 2, fallback: false,
    });
    expect(g.draws).toBe(6);
  });

  it('after 10 rejected tries (20 draws): centre crop with the aspect clamped to the range', () => {
    const wide = new Scripted([]);
    // in_ratio 10 > 4/3: h = 100, w = round(100 * 4/3) = 133, left = (1000 - 133) // 2 = 433
    expect(sampleCropBox(1000, 100, SCALE, RATIO, wide)).toEqual({ left: 433, top: 0, width: 133, height: 100, tries: CROP_TRIES, fallback: true });
    expect(wide.draws).toBe(2 * CROP_TRIES);
    const tall = new Scripted([]);
    // in_ratio 0.1 < 3/4: w = 100, h = round(100 / 0.75) = 133
    expect(sampleCropBox(100, 1000, SCALE, RATIO, tall)).toEqual({ left: 0, top: 433, width: 100, height: 133, tries: CROP_TRIES, fallback: true });
    const square = new Scripted([]);
    expect(sampleCropBox(400, 400, SCALE, RATIO, square)).toEqual({ left: 0, top: 0, width: 400, height: 400, tries: CROP_TRIES, fallback: true });
  });
});

describe('sampleCropBox: statistics with the seeded generator', () => {
  it('500x375, 20000 boxes: inside the image, area in [0.08, 1], aspect in [3/4, 4/3] up to rounding', () => {
    const g = new Generator(123);
    let fallbacks = 0;
    let areaSum = 0;
    for (let i = 0; i < 20000; i++) {
      const b = sampleCropBox(500, 375, SCALE, RATIO, g);
      expect(b.left >= 0 && b.top >= 0 && b.left + b.width <= 500 && b.top + b.height <= 375).toBe(true);
      if (b.fallback) {
        fallbacks++;
        continue;
      }
      const frac = (b.width * b.height) / (500 * 375);
      const sqrtA = Math.sqrt(500 * 375);
      // w and h are each rounded: the area fraction moves by at most (w + h + 1) / 2 / area.
      const slack = (b.width + b.height + 1) / 2 / (sqrtA * sqrtA);
      expect(frac).toBeGreaterThanOrEqual(0.08 - slack);
      expect(frac).toBeLessThanOrEqual(1 + slack);
      const r = b.width / b.height;
      expect(r).toBeGreaterThanOrEqual((3 / 4) * (1 - 1 / b.height) - 1e-9);
      expect(r).toBeLessThanOrEqual((4 / 3) * (1 + 1 / b.height) + 1e-9);
      areaSum += frac;
    }
    // Large targets are often rejected (they do not fit 500x375), so accepted areas lean small.
    expect(areaSum / (20000 - fallbacks)).toBeLessThan(0.54);
    expect(fallbacks).toBeLessThan(20);
  });

  it('1000x1000 with scale [0.08, 0.25] (every try fits): log-ratio and area uniform, corners uniform', () => {
    const g = new Generator(7);
    const n = 20000;
    const bins = new Array(10).fill(0);
    let area = 0;
    let leftPos = 0;
    let topPos = 0;
    for (let i = 0; i < n; i++) {
      const b = sampleCropBox(1000, 1000, [0.08, 0.25], RATIO, g);
      expect(b.tries).toBe(1);
      const t = (Math.log(b.width / b.height) - Math.log(3 / 4)) / (Math.log(4 / 3) - Math.log(3 / 4));
      bins[Math.min(9, Math.max(0, Math.floor(t * 10)))]++;
      area += (b.width * b.height) / 1e6;
      leftPos += b.left / (1000 - b.width);
      topPos += b.top / (1000 - b.height);
    }
    for (const k of bins) expect(Math.abs(k / n - 0.1)).toBeLessThan(0.012);
    expect(area / n).toBeCloseTo(0.165, 2);
    expect(leftPos / n).toBeCloseTo(0.5, 1);
    expect(topPos / n).toBeCloseTo(0.5, 1);
  });

  it('an extreme 2000x100 strip falls back to the clamped centre crop often, and the fallback is 133x100', () => {
    const g = new Generator(9);
    let fallbacks = 0;
    for (let i = 0; i < 2000; i++) {
      const b = sampleCropBox(2000, 100, SCALE, RATIO, g);
      if (b.fallback) {
        fallbacks++;
        expect(b).toEqual({ left: 933, top: 0, width: 133, height: 100, tries: 10, fallback: true });
      } else expect(b.height).toBeLessThanOrEqual(100);
    }
    expect(fallbacks).toBeGreaterThan(100);
  });
});

describe('evaluation geometry', () => {
  it('Resize(256): shorter side 256, longer int(256 * long / short); CenterCrop offsets round half to even', () => {
    expect(resizeShorter(500, 375, 256)).toEqual({ width: 341, height: 256 });
    expect(resizeShorter(375, 500, 256)).toEqual({ width: 256, height: 341 });
    expect(resizeShorter(640, 480, 256)).toEqual({ width: 341, height: 256 });
    expect(resizeShorter(300, 300, 256)).toEqual({ width: 256, height: 256 });
    expect(centerCropOffsets(341, 256, 224)).toEqual({ left: 58, top: 16 });
    expect(centerCropOffsets(343, 256, 224)).toEqual({ left: 60, top: 16 });
  });
});
