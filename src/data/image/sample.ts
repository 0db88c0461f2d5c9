// One ImageNet sample: file -> size x size x 3 uint8 RGB (HWC), decoded with sharp (libvips) and
// written into the caller's batch buffer. Training: torchvision's RandomResizedCrop (crop.ts),
// horizontal flip, optional RandAugment (timm's rand-m10-n2, randaugment.ts); evaluation:
// Resize(shorter side) + CenterCrop. Every random draw comes from a Generator seeded with `seed`,
// so a sample is a function of (file, spec, seed). Called from the pipeline's worker threads.
//
// Decoding policy (what torchvision's PIL loader does, and where we differ):
// - EXIF orientation is applied (PIL's loader ignores it; the brief asks for it).
// - Embedded ICC profiles are ignored (ignoreIcc), as PIL's convert('RGB') ignores them; CMYK
//   goes through libvips' built-in CMYK profile (PIL uses a naive 255-c-k formula).
// - Grayscale, palette and 16-bit inputs become 8-bit sRGB; an alpha channel is dropped before
//   any resampling (PIL's convert('RGB') drops it too, it does not composite on black).
// - Content is sniffed, so PNG/WebP bytes named .JPEG decode as what they are.
// - failOn 'error': truncated files and decoder errors are ImageFileErrors; libjpeg *warnings*
//   (corrupt entropy data that still decodes) are tolerated like PIL, unless `strict`.
// - Resampling: sharp's 'linear' kernel, libvips' triangle filter whose support widens with the
//   reduction factor: the counterpart of PIL's antialiased BILINEAR, torchvision's default.
import { promises as fs } from 'fs';
import sharp, { Sharp, SharpOptions } from 'sharp';
import { ArgumentError } from '../../errors';
import { Generator } from '../../random';
import { CropBox, centerCropOffsets, resizeShorter, sampleCropBox } from './crop';
import { ImageFileError, toImageFileError } from './errors';
import { RandAugmentSpec, randAugment } from './randaugment';

export { ImageFileError } from './errors';
export type { RandAugmentSpec } from './randaugment';

export interface TrainSampleSpec {
  kind: 'train';
  size: number;
  scale: [number, number];
  ratio: [number, number];
  flipP: number;
  randAugment: RandAugmentSpec | null;
  maxPixels: number;
  /** Let libjpeg decode at 1/2, 1/4, 1/8 when the crop allows (default true). */
  shrinkOnLoad?: boolean;
  /** Treat decoder warnings (e.g. corrupt JPEG data) as errors too (default false). */
  strict?: boolean;
}

export interface EvalSampleSpec {
  kind: 'eval';
  size: number;
  resize: number;
  maxPixels: number;
  strict?: boolean;
}

export type SampleSpec = TrainSampleSpec | EvalSampleSpec;

export interface SampleInfo {
  /** Source size after EXIF orientation. */
  width: number;
  height: number;
  /** Crop box in (oriented) source pixels; fractional for the evaluation crop. */
  box: CropBox;
  flipped: boolean;
  /** RandAugment ops applied, e.g. 'Rotate(-30.0)'. */
  ops: string[];
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Parses the --aug option. */
export function parseAug(value: string): 'basic' | 'strong' {
  if (value === 'basic' || value === 'strong') return value;
  throw new ArgumentError(`--aug: expected 'basic' or 'strong', got '${value}'`);
}

/** The training and evaluation specs of the ImageNet recipe (crop fraction 0.875 by default). */
export function sampleSpecs(opts: {
  aug: 'basic' | 'strong';
  size?: number;
  cropFraction?: number;
  maxPixels?: number;
}): { train: TrainSampleSpec; eval: EvalSampleSpec } {
  const size = opts.size ?? 224;
  const cropFraction = opts.cropFraction ?? 0.875;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(size) || size < 1) throw new ArgumentError(`sampleSpecs: size must be a positive integer, got ${size}`);
  if (!(cropFraction > 0 && cropFraction <= 1)) {
    throw new ArgumentError(`sampleSpecs: cropFraction must be in (0, 1], got ${cropFraction}`);
  }
  if (!Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new ArgumentError(`sampleSpecs: maxPixels must be a positive integer, got ${maxPixels}`);
  }
  const randAugment = opts.aug === 'strong' ? { n: 2, m: 10, p: 0.5, mstd: 0 } : null;
  return {
    train: { kind: 'train', size, scale: [0.08, 1], ratio: [3 / 4, 4 / 3], flipP: 0.5, randAugment, maxPixels },
    eval: { kind: 'eval', size, resize: Math.max(size, Math.round(size / cropFraction)), maxPixels },
  };
}

type Source = { kind: 'file'; buf: Buffer; options: SharpOptions } | { kind: 'raw'; data: Buffer; width: number; height: number };

function open(src: Source): Sharp {
  if (src.kind === 'file') return sharp(src.buf, src.options);
  return sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } });
}

const RESIZE = { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true } as const;

/** libjpeg shrink-on-load sharp applies for an overall reduction f (pipeline.cc: 8/4/2, lowered when int(f) equals it). */
export function jpegShrinkFor(f: number): number {
  let s = f >= 8 ? 8 : f >= 4 ? 4 : f >= 2 ? 2 : 1;
  if (s > 1 && Math.floor(f) === s) s /= 2;
  return s;
}

/**
 * Decodes `file` into out[offset .. offset + size*size*3) as RGB HWC uint8 following `spec`.
 * Throws ImageFileError (naming the file) for truncated, corrupt, unsupported or too large images.
 */
export async function loadSample(
  file: string,
  spec: SampleSpec,
  seed: number,
  out: Uint8Array,
  offset: number,
): Promise<SampleInfo> {
  const size = spec.size;
  const bytes = size * size * 3;
  if (!Number.isInteger(offset) || offset < 0 || offset + bytes > out.length) {
    throw new ArgumentError(`loadSample(${file}): ${size}x${size}x3 bytes at offset ${offset} do not fit in a buffer of ${out.length}`);
  }
  const gen = new Generator(seed);
  const buf = await fs.readFile(file);
  if (buf.length === 0) throw new ImageFileError(file, 'corrupt', 'empty file');
  const options: SharpOptions = {
    failOn: spec.strict ? 'warning' : 'error',
    limitInputPixels: spec.maxPixels,
    autoOrient: true,
    ignoreIcc: true,
  };
  try {
    const meta = await sharp(buf, options).metadata();
    const width = meta.autoOrient.width;
    const height = meta.autoOrient.height;
    if (width * height > spec.maxPixels) {
      throw new ImageFileError(file, 'too-large', `${width}x${height} exceeds the pixel limit ${spec.maxPixels}`);
    }
    let src: Source = { kind: 'file', buf, options };
    if (meta.hasAlpha) {
      // Drop alpha before resampling (PIL's convert('RGB')); libvips would premultiply otherwise.
      const { data, info } = await sharp(buf, options)
        .removeAlpha()
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      src = { kind: 'raw', data, width: info.width, height: info.height };
    }
    let pipe: Sharp;
    let box: CropBox;
    let flipped = false;
    if (spec.kind === 'train') {
      box = sampleCropBox(width, height, spec.scale, spec.ratio, gen);
      box = { left: box.left, top: box.top, width: box.width, height: box.height };
      flipped = gen.next() < spec.flipP;
      const f = Math.min(box.width, box.height) / size;
      if (spec.shrinkOnLoad !== false && src.kind === 'file' && meta.format === 'jpeg' &&
        (meta.orientation ?? 1) === 1 && jpegShrinkFor(f) > 1) {
        // A pre-resize extract disables shrink-on-load in sharp, so resize the whole (lazily
        // evaluated) image by the crop's scale and extract the crop after: libvips decodes at
        // 1/2..1/8 and only computes the pixels of the crop. Geometry within 1 output pixel.
        const rw = Math.max(size, Math.round((width * size) / box.width));
        const rh = Math.max(size, Math.round((height * size) / box.height));
        const left = Math.min(rw - size, Math.round((box.left * size) / box.width));
        const top = Math.min(rh - size, Math.round((box.top * size) / box.height));
        pipe = open(src).resize(rw, rh, RESIZE).extract({ left, top, width: size, height: size });
      } else {
        pipe = open(src).extract(box).resize(size, size, RESIZE);
      }
    } else {
      if (spec.resize < size) throw new ArgumentError(`loadSample: eval resize ${spec.resize} is smaller than size ${size}`);
      const r = resizeShorter(width, height, spec.resize);
      const c = centerCropOffsets(r.width, r.height, size);
      box = {
        left: (c.left * width) / r.width,
        top: (c.top * height) / r.height,
        width: (size * width) / r.width,
        height: (size * height) / r.height,
      };
      pipe = open(src).resize(r.width, r.height, RESIZE).extract({ left: c.left, top: c.top, width: size, height: size });
    }
    const { data, info } = await pipe.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      throw new ImageFileError(file, 'unsupported', `decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
    }
    const dst = out.subarray(offset, offset + bytes);
    if (flipped) flipInto(data, dst, size);
    else dst.set(data);
    const ops = spec.kind === 'train' && spec.randAugment ? randAugment(dst, size, size, spec.randAugment, gen) : [];
    return { width, height, box, flipped, ops };
  } catch (err) {
    if (err instanceof ArgumentError) throw err;
    throw toImageFileError(file, err);
  }
}

/** Horizontal mirror of a size x size x 3 image. */
function flipInto(src: Uint8Array, dst: Uint8Array, size: number): void {
  for (let y = 0; y < size; y++) {
    const row = y * size * 3;
    for (let x = 0; x < size; x++) {
      const s = row + x * 3;
      const d = row + (size - 1 - x) * 3;
      dst[d] = src[s];
      dst[d + 1] = src[s + 1];
      dst[d + 2] = src[s + 2];
    }
  }
}
