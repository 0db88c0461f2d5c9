// One ImageNet sample: file -> size x size x 3 uint8 RGB (HWC), decoded with libjpeg-turbo through
// the image addon for plain JPEGs (jpeg.ts) or with sharp (libvips) otherwise, and written into
// the caller's batch buffer. Training: torchvision's RandomResizedCrop (crop.ts),
// horizontal flip, optional RandAugment (timm's rand-m10-n2, randaugment.ts); evaluation:
// Resize(shorter side) + CenterCrop. Every random draw comes from a Generator seeded with `seed`,
// so a sample is a function of (file, spec, seed). Called from the pipeline's worker threads.
//
// Decoding and resampling policy: see decode.ts.
import { readFileSync } from 'fs';
import { ArgumentError } from '../../errors';
import { Generator } from '../../random';
import { CropBox, sampleCropBox } from './crop';
import { Resampler, openImage, renderBox, renderEval } from './decode';
import { toImageFileError } from './errors';
import { RandAugmentSpec, randAugment } from './randaugment';

export { ImageFileError } from './errors';
export type { RandAugmentSpec } from './randaugment';
export { jpegShrinkFor, usesShrinkOnLoad } from './decode';
export type { Resampler } from './decode';

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
  /**
   * Files sharp decodes: 'vips' (default): libvips reduces, PIL's algorithm enlarges; 'pil': PIL's
   * for every axis. The JPEG fast path (jpeg.ts) always resamples with PIL's algorithm.
   */
  resampler?: Resampler;
  /** Apply the EXIF orientation (default true). */
  autoOrient?: boolean;
}

export interface EvalSampleSpec {
  kind: 'eval';
  size: number;
  resize: number;
  maxPixels: number;
  strict?: boolean;
  resampler?: Resampler;
  autoOrient?: boolean;
}

export type SampleSpec = TrainSampleSpec | EvalSampleSpec;

export interface SampleInfo {
  /** Source size after EXIF orientation. */
  width: number;
  height: number;
  /** Crop box in (oriented) source pixels; fractional for the evaluation crop. */
  box: CropBox;
  flipped: boolean;
  /** RandAugment ops applied with their arguments, e.g. 'Rotate(-30)', 'Color(1.9000)'. */
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
  // Synchronous: a decode worker handles one sample at a time, and the four thread-pool round
  // trips of fs.promises.readFile (open, fstat, read, close) left it idle ~0.4 ms per image.
  const buf = readFileSync(file);
  try {
    const img = await openImage(file, buf, spec);
    let data: Uint8Array;
    let box: CropBox;
    let flipped = false;
    if (spec.kind === 'train') {
      const b = sampleCropBox(img.width, img.height, spec.scale, spec.ratio, gen);
      box = { left: b.left, top: b.top, width: b.width, height: b.height };
      flipped = gen.next() < spec.flipP;
      data = await renderBox(img, box, size, spec);
    } else {
      if (spec.resize < size) throw new ArgumentError(`loadSample: eval resize ${spec.resize} is smaller than size ${size}`);
      ({ data, box } = await renderEval(img, spec.resize, size, spec));
    }
    const dst = out.subarray(offset, offset + bytes);
    if (flipped) flipInto(data, dst, size);
    else dst.set(data);
    const ops = spec.kind === 'train' && spec.randAugment ? randAugment(dst, size, size, spec.randAugment, gen) : [];
    return { width: img.width, height: img.height, box, flipped, ops };
  } catch (err) {
    if (err instanceof ArgumentError) throw err;
    throw toImageFileError(file, err);
  }
}

/**
 * The training transform's resize for a given box (no flip, no RandAugment): `box` of `file`
 * resized to size x size into a new buffer, as torchvision's resized_crop. For tests and tools.
 */
export async function loadBox(
  file: string,
  box: CropBox,
  size: number,
  opts: { maxPixels?: number; shrinkOnLoad?: boolean; resampler?: Resampler; autoOrient?: boolean } = {},
): Promise<Uint8Array> {
  const buf = readFileSync(file);
  try {
    const img = await openImage(file, buf, { maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS, autoOrient: opts.autoOrient });
    return await renderBox(img, box, size, opts);
  } catch (err) {
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
