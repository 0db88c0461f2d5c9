// loadSample against torchvision on PIL (fixtures from scripts/fixtures/gen-image-sample-fixtures.py,
// a 120x90 noisy textured image as PNG and as PIL's JPEG): libvips' JPEG decode against PIL's,
// RandomResizedCrop's resize of given boxes (reductions, enlargements, mixed) and the evaluation
// Resize + CenterCrop. libvips decodes the JPEG byte-identically to PIL, so resampler 'pil' must
// be byte-exact on both files; the default (libvips reduces, PIL's algorithm enlarges) is within
// 0.6 level on average on this worst-case noise image (measured 0.20-0.44, max 10), and exact for
// boxes that only enlarge.
import { readFileSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Resampler, loadBox, loadSample } from '../../src/data/image/sample';

const DIR = join(__dirname, '..', 'fixtures', 'image-sample');
const meta = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as {
  width: number;
  height: number;
  boxes: [number, number, number, number][];
  evals: [number, number][];
};
const fixture = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));

function diff(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  expect(a.length).toBe(b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

describe('decoding against PIL', () => {
  it("libvips' JPEG decode of in.jpg equals PIL's byte for byte", async () => {
    const ours = new Uint8Array(await sharp(join(DIR, 'in.jpg')).raw().toBuffer());
    const d = diff(ours, fixture('in_jpg_decoded.rgb'));
    expect(d.max).toBe(0);
  });
});

describe('CMYK against PIL', () => {
  it("a CMYK JPEG becomes PIL's convert('RGB') exactly (resampler 'pil'), within 0.6 level by default", async () => {
    const want = fixture('cmyk_box_0_0_120_90.rgb');
    const box = { left: 0, top: 0, width: meta.width, height: meta.height };
    const file = join(DIR, 'in_cmyk.jpg');
    expect((await sharp(file).metadata()).space).toBe('cmyk');
    expect(diff(await loadBox(file, box, 32, { resampler: 'pil' }), want).max).toBe(0);
    expect(diff(await loadBox(file, box, 32), want).mean).toBeLessThan(0.6);
  });
});

describe('RandomResizedCrop resize of a given box against torchvision', () => {
  for (const src of ['png', 'jpg'] as const) {
    for (const [l, t, w, h] of meta.boxes) {
      const enlargeOnly = w <= 32 && h <= 32;
      it(`${src} box ${l},${t} ${w}x${h} -> 32x32`, async () => {
        const want = fixture(`${src}_box_${l}_${t}_${w}_${h}.rgb`);
        const box = { left: l, top: t, width: w, height: h };
        const file = join(DIR, `in.${src}`);
        const exact = diff(await loadBox(file, box, 32, { resampler: 'pil' }), want);
        const dflt = diff(await loadBox(file, box, 32), want);
        expect(exact.max).toBe(0);
        expect(dflt.mean).toBeLessThan(0.6);
        if (enlargeOnly) expect(dflt.max).toBe(0);
      });
    }
  }
});

describe('evaluation Resize + CenterCrop against torchvision', () => {
  for (const src of ['png', 'jpg'] as const) {
    for (const [resize, size] of meta.evals) {
      it(`${src} Resize(${resize}) + CenterCrop(${size})`, async () => {
        const want = fixture(`${src}_eval_${resize}_${size}.rgb`);
        const file = join(DIR, `in.${src}`);
        const run = async (resampler?: Resampler) => {
          const out = new Uint8Array(size * size * 3);
          await loadSample(file, { kind: 'eval', size, resize, maxPixels: 1e8, resampler }, 0, out, 0);
          return out;
        };
        const exact = diff(await run('pil'), want);
        const dflt = diff(await run(), want);
        expect(exact.max).toBe(0);
        expect(dflt.mean).toBeLessThan(0.6);
        if (resize >= meta.height) expect(dflt.max).toBe(0); // enlarging or identity: PIL's algorithm
      });
    }
  }
});
