// Opening a file as an oriented 8-bit RGB source, and rendering a crop box or the evaluation
// Resize + CenterCrop from it as HWC uint8 RGB. Plain JPEGs (1 or 3 components, no rotation to
// apply) take the libjpeg-turbo fast path of jpeg.ts (region decode + PIL's resample in C++,
// byte-exact with torchvision); everything else, and every JPEG when the image addon is missing
// (or LAYERWISE_IMAGE_ADDON=none), goes through sharp (libvips) as described below.
//
// Decoding policy (what torchvision's PIL loader does, and where we differ):
// - EXIF orientation is applied (PIL's loader ignores it; the pipeline asks for it), unless
//   autoOrient is false.
// - Embedded ICC profiles are ignored (ignoreIcc), as PIL's convert('RGB') ignores them; CMYK
//   becomes RGB with PIL's own formula (no profile), on the same decoded CMYK values as PIL.
// - Grayscale, palette and 16-bit inputs become 8-bit sRGB (16-bit scaled to 8; PIL keeps the
//   high byte of 16-bit RGB and clips 16-bit grey at 255, which we do not copy); an alpha channel
//   is dropped before any resampling (PIL's convert('RGB') drops it too, no compositing).
// - Content is sniffed, so PNG/WebP bytes named .JPEG decode as what they are.
// - failOn 'error': truncated files and decoder errors fail; libjpeg *warnings* (corrupt scan
//   data that still decodes) are tolerated like PIL, unless `strict` (failOn 'warning').
// Resampling (torchvision: PIL BILINEAR with antialias): axes that reduce go through sharp's
// 'linear' kernel, libvips' triangle filter widened by the reduction factor, the closest of
// sharp's kernels to PIL's (mean |diff| 0.3-0.45 level on a noisy test image; mitchell 0.9-1.4,
// cubic/lanczos 2-5); axes that enlarge go through resize.ts (PIL's exact algorithm), because
// libvips' upsampling is corner-aligned. resampler 'pil' sends every axis through resize.ts
// (byte-exact with torchvision given the same decoded pixels; slower).
import sharp, { Sharp, SharpOptions } from 'sharp';
import { CropBox, centerCropOffsets, resizeShorter } from './crop';
import { ImageFileError } from './errors';
import { FastJpeg, openFastJpeg, renderBoxJpeg, renderEvalJpeg } from './jpeg';
import { resizeBilinear } from './resize';

export type Resampler = 'vips' | 'pil';

export interface DecodeOptions {
  maxPixels: number;
  strict?: boolean;
  /** Apply the EXIF orientation (default true; false = torchvision's PIL loader, which ignores it). */
  autoOrient?: boolean;
}

/** An opened image: its oriented size and the bytes (or, for alpha images, raw RGB) to render from. */
export interface OpenedImage {
  file: string;
  width: number;
  height: number;
  format: string;
  /** A JPEG file source with no orientation to apply: shrink-on-load possible. */
  canShrink: boolean;
  open(): Sharp;
  /** Set when the libjpeg-turbo fast path decodes this file (jpeg.ts). */
  jpeg?: FastJpeg;
}

const RESIZE = { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true } as const;

export async function openImage(file: string, buf: Buffer, opts: DecodeOptions): Promise<OpenedImage> {
  if (buf.length === 0) throw new ImageFileError(file, 'corrupt', 'empty file');
  const options: SharpOptions = {
    failOn: opts.strict ? 'warning' : 'error',
    limitInputPixels: opts.maxPixels,
    autoOrient: opts.autoOrient ?? true,
    ignoreIcc: true,
  };
  const jpeg = openFastJpeg(buf, opts);
  if (jpeg) {
    const { width, height } = jpeg.header;
    if (width * height > opts.maxPixels) {
      throw new ImageFileError(file, 'too-large', `${width}x${height} exceeds the pixel limit ${opts.maxPixels}`);
    }
    return { file, width, height, format: 'jpeg', canShrink: true, jpeg, open: () => sharp(buf, options) };
  }
  const meta = await sharp(buf, options).metadata();
  const oriented = options.autoOrient ? meta.autoOrient : undefined;
  const width = oriented?.width ?? meta.width;
  const height = oriented?.height ?? meta.height;
  const format = meta.format ?? 'unknown';
  if (!width || !height) throw new ImageFileError(file, 'unsupported', `no image size in the ${format} header`);
  if (width * height > opts.maxPixels) {
    throw new ImageFileError(file, 'too-large', `${width}x${height} exceeds the pixel limit ${opts.maxPixels}`);
  }
  if (meta.hasAlpha) {
    // Drop alpha before resampling (PIL's convert('RGB')); libvips would premultiply otherwise.
    const { data, info } = await sharp(buf, options).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const raw = { width: info.width, height: info.height, channels: 3 as const };
    return { file, width, height, format, canShrink: false, open: () => sharp(data, { raw }) };
  }
  if (meta.space === 'cmyk' && meta.channels === 4) {
    // PIL's convert('RGB') of CMYK: R = (255 - K) - (255 - K) * C / 255 (Convert.c cmyk2rgb), on
    // the decoder's CMYK values (kept as stored by a CMYK pipeline colourspace).
    const { data, info } = await sharp(buf, options).pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new ImageFileError(file, 'unsupported', `CMYK decoded to ${info.channels} channels`);
    const rgbData = cmykToRgb(data, info.width * info.height);
    const raw = { width: info.width, height: info.height, channels: 3 as const };
    return { file, width, height, format, canShrink: false, open: () => sharp(rgbData, { raw }) };
  }
  const canShrink = format === 'jpeg' && (!options.autoOrient || (meta.orientation ?? 1) === 1);
  return { file, width, height, format, canShrink, open: () => sharp(buf, options) };
}

/** Pillow's cmyk2rgb: nk = 255 - k; out = clip(nk - MULDIV255(c, nk)). */
export function cmykToRgb(cmyk: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const nk = 255 - cmyk[4 * i + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[4 * i + c] * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[3 * i + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

async function rgb(img: OpenedImage, pipe: Sharp, width: number, height: number): Promise<Uint8Array> {
  const { data, info } = await pipe.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new ImageFileError(img.file, 'unsupported', `decoded to ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
  }
  return data;
}

/** libjpeg shrink-on-load sharp applies for an overall reduction f (pipeline.cc: 8/4/2, lowered when int(f) equals it). */
export function jpegShrinkFor(f: number): number {
  let s = f >= 8 ? 8 : f >= 4 ? 4 : f >= 2 ? 2 : 1;
  if (s > 1 && Math.floor(f) === s) s /= 2;
  return s;
}

/** Whether renderBox will decode `box` with JPEG shrink-on-load. */
export function usesShrinkOnLoad(img: OpenedImage, box: CropBox, size: number, shrinkOnLoad = true): boolean {
  return shrinkOnLoad && img.canShrink && jpegShrinkFor(Math.min(box.width, box.height) / size) > 1;
}

/** The integer source box resized to size x size (torchvision's resized_crop). */
export async function renderBox(
  img: OpenedImage,
  box: CropBox,
  size: number,
  opts: { shrinkOnLoad?: boolean; resampler?: Resampler } = {},
): Promise<Uint8Array> {
  if (img.jpeg) {
    const s = usesShrinkOnLoad(img, box, size, opts.shrinkOnLoad ?? true) ? jpegShrinkFor(Math.min(box.width, box.height) / size) : 1;
    return renderBoxJpeg(img.file, img.jpeg, box, size, s as 1 | 2 | 4 | 8);
  }
  if (usesShrinkOnLoad(img, box, size, opts.shrinkOnLoad ?? true)) {
    // A pre-resize extract disables shrink-on-load in sharp (pipeline.cc: shouldPreShrink needs
    // no pre-extract), so resize the whole lazily evaluated image by the crop's scale and
    // extract the crop after: libjpeg decodes at 1/2..1/8 and libvips computes only the crop.
    // The box edges move by up to half an output pixel, the scale by under 1/(2 * 224).
    const rw = Math.max(size, Math.round((img.width * size) / box.width));
    const rh = Math.max(size, Math.round((img.height * size) / box.height));
    const left = Math.min(rw - size, Math.round((box.left * size) / box.width));
    const top = Math.min(rh - size, Math.round((box.top * size) / box.height));
    return rgb(img, img.open().resize(rw, rh, RESIZE).extract({ left, top, width: size, height: size }), size, size);
  }
  const pil = opts.resampler === 'pil';
  const rw = pil ? box.width : Math.min(box.width, size);
  const rh = pil ? box.height : Math.min(box.height, size);
  let pipe = img.open().extract(box);
  if (rw !== box.width || rh !== box.height) pipe = pipe.resize(rw, rh, RESIZE);
  const data = await rgb(img, pipe, rw, rh);
  return rw === size && rh === size ? data : resizeBilinear(data, rw, rh, size, size);
}

/** Resize(shorter side = resize) + CenterCrop(size); the box is the crop in source pixels. */
export async function renderEval(
  img: OpenedImage,
  resize: number,
  size: number,
  opts: { resampler?: Resampler } = {},
): Promise<{ data: Uint8Array; box: CropBox }> {
  if (img.jpeg) return renderEvalJpeg(img.file, img.jpeg, resize, size);
  const { width: W, height: H } = img;
  const r = resizeShorter(W, H, resize);
  const c = centerCropOffsets(r.width, r.height, size);
  const box = { left: (c.left * W) / r.width, top: (c.top * H) / r.height, width: (size * W) / r.width, height: (size * H) / r.height };
  const pil = opts.resampler === 'pil';
  if (!pil && r.width <= W && r.height <= H) {
    const pipe = img.open().resize(r.width, r.height, RESIZE).extract({ left: c.left, top: c.top, width: size, height: size });
    return { data: await rgb(img, pipe, size, size), box };
  }
  const rw = pil ? W : Math.min(W, r.width);
  const rh = pil ? H : Math.min(H, r.height);
  let pipe = img.open();
  if (rw !== W || rh !== H) pipe = pipe.resize(rw, rh, RESIZE);
  const full = resizeBilinear(await rgb(img, pipe, rw, rh), rw, rh, r.width, r.height);
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const s = ((c.top + y) * r.width + c.left) * 3;
    data.set(full.subarray(s, s + size * 3), y * size * 3);
  }
  return { data, box };
}
