// Tests of loadSample on odd and bad files, all generated here with sharp: EXIF orientation,
// CMYK, grayscale, 16-bit PNG, alpha (dropped like PIL's convert('RGB'), not composited),
// palette PNG, PNG and WebP content under a .JPEG name, and the ImageFileError cases (truncated,
// corrupt header, corrupt scan data under `strict`, not an image, empty, over the pixel limit).
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError } from '../../src/errors';
import { EvalSampleSpec, ImageFileError, loadSample, SampleSpec, sampleSpecs } from '../../src/data/image/sample';

const dir = mkdtempSync(join(tmpdir(), 'image-files-'));
const W = 48;
const H = 32;

/** A W x H RGB pattern with edges and colours (so a rotation or a channel swap shows). */
function pattern(): Buffer {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      px[o] = x < W / 2 ? 220 : 30;
      px[o + 1] = Math.round((255 * y) / (H - 1));
      px[o + 2] = (x + y) % 8 < 4 ? 200 : 60;
    }
  }
  return px;
}

const raw = (px: Buffer, w = W, h = H, channels: 1 | 2 | 3 | 4 = 3) => sharp(px, { raw: { width: w, height: h, channels } });
function put(name: string, buf: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, buf);
  return file;
}
/** No resampling: the whole W x H image as a W x H "crop" (eval with size = resize = the short side needs a square). */
const identity = (size: number): EvalSampleSpec => ({ kind: 'eval', size, resize: size, maxPixels: 100_000_000 });
const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

async function load(file: string, spec: SampleSpec): Promise<Uint8Array> {
  const out = new Uint8Array(spec.size * spec.size * 3);
  await loadSample(file, spec, 3, out, 0);
  return out;
}

let square: Buffer; // a 32x32 crop of the pattern, raw RGB
let pngFile: string;
let jpegBuf: Buffer;
beforeAll(async () => {
  square = await raw(pattern()).extract({ left: 0, top: 0, width: 32, height: 32 }).raw().toBuffer();
  pngFile = put('square.png', await raw(square, 32, 32).png().toBuffer());
  jpegBuf = await raw(pattern()).jpeg({ quality: 90 }).toBuffer();
});

describe('loadSample: odd but valid inputs become 8-bit RGB', () => {
  it('PNG without resampling is exact (the reference for the cases below)', async () => {
    expect(Buffer.from(await load(pngFile, identity(32))).equals(square)).toBe(true);
  });

  it('PNG and lossless WebP bytes named .JPEG decode as what they are', async () => {
    const p = put('png-inside.JPEG', await raw(square, 32, 32).png().toBuffer());
    const w = put('webp-inside.JPEG', await raw(square, 32, 32).webp({ lossless: true }).toBuffer());
    expect(Buffer.from(await load(p, identity(32))).equals(square)).toBe(true);
    expect(Buffer.from(await load(w, identity(32))).equals(square)).toBe(true);
  });

  it('16-bit PNG gives the 8-bit values back', async () => {
    const f = put('deep.png', await raw(square, 32, 32).toColourspace('rgb16').png().toBuffer());
    expect((await sharp(f).metadata()).depth).toBe('ushort');
    expect(Buffer.from(await load(f, identity(32))).equals(square)).toBe(true);
  });

  it('alpha is dropped, keeping the colour of transparent pixels (PIL convert("RGB")), also when resampled', async () => {
    const rgba = Buffer.alloc(32 * 32 * 4);
    for (let i = 0; i < 32 * 32; i++) {
      rgba.set(square.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = i % 3 === 0 ? 0 : 128;
    }
    const f = put('alpha.png', await raw(rgba, 32, 32, 4).png().toBuffer());
    expect(Buffer.from(await load(f, identity(32))).equals(square)).toBe(true);
    const half: EvalSampleSpec = { kind: 'eval', size: 16, resize: 16, maxPixels: 1e8 };
    expect(meanAbs(await load(f, half), await load(pngFile, half))).toBe(0);
  });

  it('16-bit grayscale and grayscale + alpha PNGs become R = G = B', async () => {
    const gray = Buffer.alloc(32 * 32);
    const ga = Buffer.alloc(32 * 32 * 2);
    for (let i = 0; i < 32 * 32; i++) {
      gray[i] = (i * 7) & 255;
      ga[2 * i] = gray[i];
      ga[2 * i + 1] = i % 2 ? 0 : 255;
    }
    const want = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < 32 * 32; i++) want.fill(gray[i], 3 * i, 3 * i + 3);
    const g16 = put('gray16.png', await raw(gray, 32, 32, 1).toColourspace('grey16').png().toBuffer());
    expect((await sharp(g16).metadata()).depth).toBe('ushort');
    const gaf = put('gray-alpha.png', await raw(ga, 32, 32, 2).toColourspace('b-w').png().toBuffer());
    expect((await sharp(gaf).metadata()).channels).toBe(2);
    expect(Buffer.from(await load(g16, identity(32))).equals(want)).toBe(true);
    expect(Buffer.from(await load(gaf, identity(32))).equals(want)).toBe(true);
  });

  it('an image smaller than the output (7x5) is upsampled in training and evaluation', async () => {
    const tiny = put('tiny.png', await raw(square.subarray(0, 7 * 5 * 3), 7, 5).png().toBuffer());
    const { train, eval: ev } = sampleSpecs({ aug: 'basic', size: 24 });
    const out = new Uint8Array(24 * 24 * 3);
    const t = await loadSample(tiny, train, 1, out, 0);
    expect(t.box.width).toBeGreaterThan(0);
    expect(t.box.left + t.box.width).toBeLessThanOrEqual(7);
    const e = await loadSample(tiny, ev, 1, out, 0);
    expect([e.width, e.height]).toEqual([7, 5]);
    expect(out.some((v) => v !== 0)).toBe(true);
  });

  it('palette PNG and grayscale JPEG become RGB (gray: R = G = B)', async () => {
    const pal = put('palette.png', await raw(square, 32, 32).png({ palette: true, colours: 256, dither: 0 }).toBuffer());
    expect(meanAbs(await load(pal, identity(32)), square)).toBeLessThan(3);
    const g = put('gray.JPEG', await raw(square, 32, 32).greyscale().jpeg({ quality: 95 }).toBuffer());
    const out = await load(g, identity(32));
    for (let i = 0; i < out.length; i += 3) {
      expect(out[i + 1]).toBe(out[i]);
      expect(out[i + 2]).toBe(out[i]);
    }
    expect(meanAbs(out, square)).toBeGreaterThan(0);
  });

  it('CMYK JPEG becomes sRGB close to the RGB original (not inverted)', async () => {
    const f = put('cmyk.JPEG', await raw(square, 32, 32).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer());
    expect((await sharp(f).metadata()).space).toBe('cmyk');
    // libvips' RGB -> CMYK (through its CMYK profile) and PIL's formula back are not inverses
    // (about 20 levels apart); inverted colours would be ~100 off. Exactness against PIL:
    // image-sample-parity.test.ts.
    const out = await load(f, identity(32));
    expect(meanAbs(out, square)).toBeLessThan(25);
    expect(meanAbs(out.map((v) => 255 - v), square)).toBeGreaterThan(80);
  });

  it('EXIF orientation 6 is applied: same as the physically rotated image, 32x48 reported', async () => {
    const tagged = put('orient6.JPEG', await raw(pattern()).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer());
    const rotated = put('rotated.JPEG', await raw(pattern()).rotate(90).jpeg({ quality: 100 }).toBuffer());
    const spec: EvalSampleSpec = { kind: 'eval', size: 32, resize: 32, maxPixels: 1e8 };
    const out = new Uint8Array(32 * 32 * 3);
    const info = await loadSample(tagged, spec, 0, out, 0);
    expect([info.width, info.height]).toEqual([H, W]);
    const ref = await load(rotated, spec);
    expect(meanAbs(out, ref)).toBeLessThan(3);
    const unrotated = await load(put('plain.JPEG', jpegBuf), { kind: 'eval', size: 32, resize: 32, maxPixels: 1e8 });
    expect(meanAbs(unrotated, ref)).toBeGreaterThan(20);
    const asStored = await loadSample(tagged, { ...spec, autoOrient: false }, 0, new Uint8Array(32 * 32 * 3), 0);
    expect([asStored.width, asStored.height]).toEqual([W, H]);
    // The training crop is drawn in the oriented frame too.
    const t = await loadSample(tagged, { ...sampleSpecs({ aug: 'basic', size: 16 }).train }, 5, new Uint8Array(16 * 16 * 3), 0);
    expect(t.box.left + t.box.width).toBeLessThanOrEqual(H);
    expect(t.box.top + t.box.height).toBeLessThanOrEqual(W);
  });
});

describe('loadSample: bad files are ImageFileErrors naming the file', () => {
  const train = sampleSpecs({ aug: 'basic', size: 16 }).train;
  const ev = sampleSpecs({ aug: 'basic', size: 16 }).eval;

  async function reason(file: string, spec: SampleSpec): Promise<string> {
    try {
      await loadSample(file, spec, 0, new Uint8Array(spec.size * spec.size * 3), 0);
    } catch (err) {
      expect(err).toBeInstanceOf(ImageFileError);
      expect(err).toBeInstanceOf(FileFormatError);
      expect((err as ImageFileError).file).toBe(file);
      expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
      return (err as ImageFileError).reason;
    }
    return 'no error';
  }

  it('a truncated JPEG (first half of the bytes) is "truncated", in training and evaluation', async () => {
    const f = put('truncated.JPEG', jpegBuf.subarray(0, jpegBuf.length >> 1));
    expect(await reason(f, train)).toBe('truncated');
    expect(await reason(f, ev)).toBe('truncated');
    const png = await raw(pattern()).png().toBuffer();
    expect(['truncated', 'corrupt']).toContain(await reason(put('truncated.png', png.subarray(0, png.length >> 1)), ev));
  });

  it('a corrupt header is "corrupt"; bytes of no image format are "unsupported"; an empty file is "corrupt"', async () => {
    const bad = Buffer.from(jpegBuf);
    for (let i = 2; i < 200; i++) bad[i] = (i * 31) & 255;
    expect(await reason(put('corrupt-header.JPEG', bad), train)).toBe('corrupt');
    expect(await reason(put('text.JPEG', Buffer.from('not an image at all, just text\n'.repeat(20))), train)).toBe('unsupported');
    expect(await reason(put('empty.JPEG', Buffer.alloc(0)), ev)).toBe('corrupt');
  });

  it('corrupt scan data decodes (libjpeg warning, tolerated like PIL) unless strict', async () => {
    const bad = Buffer.from(jpegBuf);
    for (let i = bad.length - 400; i < bad.length - 2; i++) bad[i] = 0xff;
    const f = put('corrupt-scan.JPEG', bad);
    expect(await reason(f, ev)).toBe('no error');
    expect(await reason(f, { ...ev, strict: true })).toBe('corrupt');
    expect(await reason(f, { ...train, strict: true })).toBe('corrupt');
  });

  it('more pixels than maxPixels is "too-large"; exactly maxPixels is accepted', async () => {
    const f = put('big.JPEG', jpegBuf);
    expect(await reason(f, { ...train, maxPixels: W * H - 1 })).toBe('too-large');
    expect(await reason(f, { ...ev, maxPixels: W * H - 1 })).toBe('too-large');
    expect(await reason(f, { ...train, maxPixels: W * H })).toBe('no error');
  });

  it('a missing file is the file system error, naming the path', async () => {
    await expect(loadSample(join(dir, 'missing.JPEG'), ev, 0, new Uint8Array(16 * 16 * 3), 0)).rejects.toThrow(/missing\.JPEG/);
  });
});
