// The image addon (native/image, layerwise_image.node): libjpeg-turbo header and region decode
// against PIL's decode of the fixture JPEG and against its own full decode, DCT-scaled sizes,
// grey -> RGB, EXIF orientation, truncated and corrupt input (errors with a reason, never a
// crash), and the C++ port of PIL's bilinear resample against resize.ts byte for byte.
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageAddon, imageAddonStatus } from '../../src/native/image-addon';
import { openImage } from '../../src/data/image/decode';
import { bilinearSpan } from '../../src/data/image/jpeg';
import { loadBox, loadSample } from '../../src/data/image/sample';
import { resizeBilinear } from '../../src/data/image/resize';
import { Generator } from '../../src/random';

const DIR = join(__dirname, '..', 'fixtures', 'image-sample');
const jpg = new Uint8Array(readFileSync(join(DIR, 'in.jpg')));
const addon = imageAddon();
const A = () => {
  if (!addon) throw new Error(`image addon not loaded: ${imageAddonStatus().why}`);
  return addon;
};

function decode(buf: Uint8Array, s: 1 | 2 | 4 | 8, x: number, y: number, w: number, h: number, strict = false): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const r = A().decodeJpegRegion(buf, { scaleDenom: s, cropX: x, cropY: y, cropW: w, cropH: h, strict }, out);
  expect([r.width, r.height]).toEqual([w, h]);
  expect(r.xOffset).toBeLessThanOrEqual(x);
  return out;
}

function crop(src: Uint8Array, sw: number, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(src.subarray(((y + r) * sw + x) * 3, ((y + r) * sw + x + w) * 3), r * w * 3);
  return out;
}

function errorOf(f: () => unknown): (Error & { reason?: string }) | null {
  try {
    f();
    return null;
  } catch (err) {
    return err as Error & { reason?: string };
  }
}

describe('image addon: JPEG decode', () => {
  it('reads the header and decodes in.jpg byte for byte as PIL does', () => {
    const info = A().jpegInfo(jpg);
    expect(info).toMatchObject({ width: 120, height: 90, components: 3, colorSpace: 'ycbcr', progressive: false });
    expect(info.orientation).toBeUndefined();
    const want = new Uint8Array(readFileSync(join(DIR, 'in_jpg_decoded.rgb')));
    expect(Buffer.compare(decode(jpg, 1, 0, 0, 120, 90), want)).toBe(0);
  });

  it('decodes regions equal to the full decode cropped, at every DCT scale, with the scaled sizes ceil(W/s)', async () => {
    const progressive = new Uint8Array(await sharp(jpg).jpeg({ quality: 90, progressive: true }).toBuffer());
    expect(A().jpegInfo(progressive).progressive).toBe(true);
    const gen = new Generator(7);
    for (const buf of [jpg, progressive]) {
      for (const s of [1, 2, 4, 8] as const) {
        const W = Math.ceil(120 / s);
        const H = Math.ceil(90 / s);
        const sized = new Uint8Array(W * H * 3);
        expect(A().decodeJpegRegion(buf, { scaleDenom: s, cropX: 0, cropY: 0, cropW: W, cropH: H }, sized)).toMatchObject({
          scaledWidth: W,
          scaledHeight: H,
        });
        expect(errorOf(() => decode(buf, s, 0, 0, W + 1, H))?.reason).toBe('invalid');
        const full = decode(buf, s, 0, 0, W, H);
        const regions = [[W - 1, H - 1, 1, 1], [0, 0, 1, 1], [1, 1, W - 2, H - 2]];
        for (let i = 0; i < 12; i++) {
          const x = Math.floor(gen.next() * W);
          const y = Math.floor(gen.next() * H);
          regions.push([x, y, 1 + Math.floor(gen.next() * (W - x)), 1 + Math.floor(gen.next() * (H - y))]);
        }
        for (const [x, y, w, h] of regions) {
          expect(Buffer.compare(decode(buf, s, x, y, w, h), crop(full, W, x, y, w, h)), `1/${s} ${x},${y} ${w}x${h}`).toBe(0);
        }
      }
    }
  });

  it('decodes a greyscale JPEG to RGB with R = G = B = the grey value', async () => {
    const grey = new Uint8Array(await sharp(jpg).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer());
    expect(A().jpegInfo(grey)).toMatchObject({ components: 1, colorSpace: 'grayscale' });
    const want = await sharp(grey).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect(want.info.channels).toBe(1);
    const rgb = decode(grey, 1, 5, 7, 100, 60);
    for (let y = 0; y < 60; y++) {
      for (let x = 0; x < 100; x++) {
        const g = want.data[(y + 7) * 120 + x + 5];
        const p = (y * 100 + x) * 3;
        expect([rgb[p], rgb[p + 1], rgb[p + 2]]).toEqual([g, g, g]);
      }
    }
  });

  it('reads the EXIF orientation; rotated and CMYK JPEGs stay on the sharp path', async () => {
    const rotated = new Uint8Array(await sharp(jpg).withMetadata({ orientation: 6 }).jpeg().toBuffer());
    expect(A().jpegInfo(rotated).orientation).toBe(6);
    expect((await openImage('r.jpg', Buffer.from(rotated), { maxPixels: 1e8 })).jpeg).toBeUndefined();
    expect((await openImage('r.jpg', Buffer.from(rotated), { maxPixels: 1e8, autoOrient: false })).jpeg).toBeDefined();
    expect((await openImage('in.jpg', Buffer.from(jpg), { maxPixels: 1e8 })).jpeg).toBeDefined();
    const cmyk = new Uint8Array(readFileSync(join(DIR, 'in_cmyk.jpg')));
    expect(A().jpegInfo(cmyk)).toMatchObject({ components: 4, colorSpace: expect.stringMatching(/^(cmyk|ycck)$/) });
    expect(errorOf(() => decode(cmyk, 1, 0, 0, 8, 8))?.reason).toBe('unsupported');
    expect((await openImage('c.jpg', Buffer.from(cmyk), { maxPixels: 1e8 })).jpeg).toBeUndefined();
    await expect(openImage('big.jpg', Buffer.from(jpg), { maxPixels: 1000 })).rejects.toMatchObject({ reason: 'too-large' });
  });

  it('reports truncated files as truncated, even when the crop ends above the cut', () => {
    for (const n of [jpg.length - 2, Math.floor(jpg.length / 2), 700]) {
      const cut = jpg.subarray(0, n);
      for (const [y, h] of [[0, 90], [0, 8], [40, 10]]) {
        const e = errorOf(() => decode(cut, 1, 0, y, 120, h));
        expect(e?.reason, `${n} bytes, rows ${y}+${h}`).toBe('truncated');
        expect(e?.message).toMatch(/Premature end of JPEG file/);
      }
    }
    expect(errorOf(() => A().jpegInfo(jpg.subarray(0, 100)))?.reason).toBe('truncated');
    expect(errorOf(() => A().jpegInfo(new Uint8Array([1, 2, 3, 4, 5])))?.reason).toBe('unsupported');
  });

  it('never crashes on corrupt data: it decodes or throws an Error with a reason', () => {
    const gen = new Generator(3);
    let failed = 0;
    for (let i = 0; i < 300; i++) {
      const bad = Uint8Array.from(jpg);
      const flips = 1 + Math.floor(gen.next() * 8);
      for (let k = 0; k < flips; k++) bad[2 + Math.floor(gen.next() * (bad.length - 2))] = Math.floor(gen.next() * 256);
      for (const strict of [false, true]) {
        const e = errorOf(() => decode(bad, 1, 10, 10, 100, 70, strict));
        if (e) {
          failed++;
          expect(e).toBeInstanceOf(Error);
          expect(['corrupt', 'truncated', 'unsupported']).toContain(e.reason);
        }
      }
    }
    expect(failed).toBeGreaterThan(0);
  });
});

describe('image addon: the fast path of loadSample', () => {
  const meta = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as {
    boxes: [number, number, number, number][];
    evals: [number, number][];
  };
  it("is byte-exact with torchvision's resized_crop and Resize + CenterCrop on PIL (default resampler)", async () => {
    for (const [l, t, w, h] of meta.boxes) {
      const want = new Uint8Array(readFileSync(join(DIR, `jpg_box_${l}_${t}_${w}_${h}.rgb`)));
      const got = await loadBox(join(DIR, 'in.jpg'), { left: l, top: t, width: w, height: h }, 32);
      expect(Buffer.compare(got, want), `box ${l},${t} ${w}x${h}`).toBe(0);
    }
    for (const [resize, size] of meta.evals) {
      const want = new Uint8Array(readFileSync(join(DIR, `jpg_eval_${resize}_${size}.rgb`)));
      const out = new Uint8Array(size * size * 3);
      await loadSample(join(DIR, 'in.jpg'), { kind: 'eval', size, resize, maxPixels: 1e8 }, 0, out, 0);
      expect(Buffer.compare(out, want), `eval ${resize} ${size}`).toBe(0);
    }
  });
});

describe('image addon: DCT-scaled crops', () => {
  it('decode a large crop at 1/s close to the full-resolution result; shrinkOnLoad: false is exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-jpeg-'));
    const file = join(dir, 'big.jpg');
    const big = await sharp(join(DIR, 'in.png')).resize(480, 360, { kernel: 'cubic' }).blur(1.5).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(file, big);
    const full = decode(new Uint8Array(big), 1, 0, 0, 480, 360);
    for (const [l, t, w, h, size] of [[40, 30, 400, 300, 32], [0, 0, 480, 360, 64], [13, 7, 301, 250, 40]]) {
      const exact = await loadBox(file, { left: l, top: t, width: w, height: h }, size, { shrinkOnLoad: false });
      expect(Buffer.compare(exact, resizeBilinear(crop(full, 480, l, t, w, h), w, h, size, size))).toBe(0);
      const drafted = await loadBox(file, { left: l, top: t, width: w, height: h }, size);
      let sum = 0;
      for (let i = 0; i < exact.length; i++) sum += Math.abs(exact[i] - drafted[i]);
      expect(sum / exact.length, `box ${l},${t} ${w}x${h} -> ${size}`).toBeLessThan(2);
      expect(Buffer.compare(exact, drafted)).not.toBe(0); // it did draft
    }
  });
});

describe('image addon: resizeBilinearPil', () => {
  function randomImage(gen: Generator, w: number, h: number): Uint8Array {
    const a = new Uint8Array(w * h * 3);
    for (let i = 0; i < a.length; i++) a[i] = Math.floor(gen.next() * 256);
    return a;
  }

  it('equals resize.ts byte for byte (reduce, enlarge, mixed, identity), and a window equals the crop of the full resize', () => {
    const gen = new Generator(11);
    const sizes: [number, number, number, number][] = [[500, 375, 224, 224], [37, 23, 224, 224], [300, 40, 50, 224], [64, 64, 64, 64], [1, 1, 5, 3], [224, 224, 224, 100]];
    for (let i = 0; i < 10; i++) sizes.push([1 + Math.floor(gen.next() * 400), 1 + Math.floor(gen.next() * 400), 1 + Math.floor(gen.next() * 300), 1 + Math.floor(gen.next() * 300)]);
    for (const [sw, sh, dw, dh] of sizes) {
      const src = randomImage(gen, sw, sh);
      const want = resizeBilinear(src, sw, sh, dw, dh);
      const got = new Uint8Array(dw * dh * 3);
      A().resizeBilinearPil(src, sw, sh, { x0: 0, y0: 0, x1: sw, y1: sh }, dw, dh, got);
      expect(Buffer.compare(got, want), `${sw}x${sh} -> ${dw}x${dh}`).toBe(0);
      const x = Math.floor(gen.next() * dw);
      const y = Math.floor(gen.next() * dh);
      const w = 1 + Math.floor(gen.next() * (dw - x));
      const h = 1 + Math.floor(gen.next() * (dh - y));
      const win = new Uint8Array(w * h * 3);
      A().resizeBilinearPil(src, sw, sh, { x0: 0, y0: 0, x1: sw, y1: sh }, dw, dh, win, { x, y, width: w, height: h });
      expect(Buffer.compare(win, crop(want, dw, x, y, w, h)), `window ${x},${y} ${w}x${h} of ${dw}x${dh}`).toBe(0);
      // The same window from only the source part it reads (what the eval fast path decodes).
      const [x0, x1] = bilinearSpan(sw, dw, x, w);
      const [y0, y1] = bilinearSpan(sh, dh, y, h);
      const part = crop(src, sw, x0, y0, x1 - x0, y1 - y0);
      const fromPart = new Uint8Array(w * h * 3);
      const full = { x0: 0, y0: 0, x1: sw, y1: sh };
      A().resizeBilinearPil(part, x1 - x0, y1 - y0, full, dw, dh, fromPart, { x, y, width: w, height: h }, { x: x0, y: y0, width: sw, height: sh });
      expect(Buffer.compare(fromPart, win), `part ${x0}..${x1} x ${y0}..${y1} of ${sw}x${sh}`).toBe(0);
    }
  });

  it('rejects bad sizes with an error naming the op', () => {
    const src = new Uint8Array(10 * 10 * 3);
    const out = new Uint8Array(4 * 4 * 3);
    expect(errorOf(() => A().resizeBilinearPil(src, 10, 11, { x0: 0, y0: 0, x1: 10, y1: 10 }, 4, 4, out))?.message).toMatch(/resizeBilinearPil/);
    expect(errorOf(() => A().resizeBilinearPil(src, 10, 10, { x0: 0, y0: 0, x1: 11, y1: 10 }, 4, 4, out))?.message).toMatch(/resizeBilinearPil/);
    expect(errorOf(() => A().resizeBilinearPil(src, 10, 10, { x0: 0, y0: 0, x1: 10, y1: 10 }, 5, 4, out))?.reason).toBe('invalid');
    // A source part smaller than what the window reads is refused, never read out of bounds.
    const e = errorOf(() => A().resizeBilinearPil(src, 10, 10, { x0: 0, y0: 0, x1: 100, y1: 100 }, 4, 4, out, undefined, { x: 5, y: 5, width: 100, height: 100 }));
    expect(e?.message).toMatch(/needs source columns/);
  });
});
