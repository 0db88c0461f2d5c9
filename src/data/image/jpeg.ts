// The libjpeg-turbo fast path of loadSample (the image addon, src/native/image-addon.ts): for
// baseline and progressive JPEGs with 1 or 3 components (grey, YCbCr, RGB) and no EXIF rotation to
// apply, decode only the crop's region (DCT-scaled by 1/2..1/8 when the crop allows) and resize
// with PIL's bilinear algorithm in C++ (byte-exact with resize.ts). Everything else (CMYK, other
// formats named .JPEG, rotated, 12-bit, headers libjpeg rejects) stays on sharp (decode.ts).
//
// Decode settings are PIL's (JDCT_ISLOW, fancy upsampling), so the decoded pixels equal PIL's and
// the resized crop is byte-exact with torchvision for both resamplers when no DCT scaling is used.
// DCT scaling is chosen exactly as sharp's shrink-on-load was (jpegShrinkFor: the scaled crop keeps
// at least (s + 1) / s times the output size, so >= the output size in both dimensions, as PIL's
// draft() requires); torchvision never drafts, so those crops deviate slightly (a box-like DCT
// reduction before the bilinear one); shrinkOnLoad: false turns it off.
import { type ImageAddon, type JpegHeader, imageAddon } from '../../native/image-addon';
import { CropBox, centerCropOffsets, resizeShorter } from './crop';
import { ImageFileError, ImageFileErrorReason, toImageFileError } from './errors';

export interface FastJpeg {
  addon: ImageAddon;
  buf: Uint8Array;
  header: JpegHeader;
  strict: boolean;
}

const REASONS: ImageFileErrorReason[] = ['corrupt', 'truncated', 'too-large', 'unsupported'];

/** The fast-path handle for `buf`, or null when sharp must decode it. */
export function openFastJpeg(buf: Uint8Array, opts: { autoOrient?: boolean; strict?: boolean }): FastJpeg | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  const addon = imageAddon();
  if (!addon) return null;
  let header: JpegHeader;
  try {
    header = addon.jpegInfo(buf);
  } catch {
    return null; // sharp reports header failures as before
  }
  const grey = header.components === 1 && header.colorSpace === 'grayscale';
  const colour = header.components === 3 && (header.colorSpace === 'ycbcr' || header.colorSpace === 'rgb');
  if (!grey && !colour) return null;
  if ((opts.autoOrient ?? true) && (header.orientation ?? 1) !== 1) return null;
  return { addon, buf, header, strict: opts.strict ?? false };
}

function nativeError(file: string, err: unknown): ImageFileError {
  const reason = (err as { reason?: unknown } | null)?.reason;
  if (err instanceof Error && REASONS.includes(reason as ImageFileErrorReason)) {
    return new ImageFileError(file, reason as ImageFileErrorReason, err.message);
  }
  return toImageFileError(file, err);
}

/** The scaled image's region [x0, x1) x [y0, y1) as RGB HWC. */
function decodeRegion(file: string, j: FastJpeg, s: 1 | 2 | 4 | 8, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const out = new Uint8Array((x1 - x0) * (y1 - y0) * 3);
  try {
    j.addon.decodeJpegRegion(j.buf, { scaleDenom: s, cropX: x0, cropY: y0, cropW: x1 - x0, cropH: y1 - y0, strict: j.strict }, out);
  } catch (err) {
    throw nativeError(file, err);
  }
  return out;
}

/** The integer source box resized to size x size (torchvision's resized_crop); scale = DCT shrink. */
export function renderBoxJpeg(file: string, j: FastJpeg, box: CropBox, size: number, scale: 1 | 2 | 4 | 8): Uint8Array {
  const { width: W, height: H } = j.header;
  const sw = Math.ceil(W / scale);
  const sh = Math.ceil(H / scale);
  const l = box.left / scale;
  const t = box.top / scale;
  const r = (box.left + box.width) / scale;
  const b = (box.top + box.height) / scale;
  const x0 = Math.floor(l);
  const y0 = Math.floor(t);
  const x1 = Math.min(sw, Math.ceil(r));
  const y1 = Math.min(sh, Math.ceil(b));
  const region = decodeRegion(file, j, scale, x0, y0, x1, y1);
  const out = new Uint8Array(size * size * 3);
  const rw = x1 - x0;
  const rh = y1 - y0;
  const rbox = { x0: l - x0, y0: t - y0, x1: Math.min(rw, r - x0), y1: Math.min(rh, b - y0) };
  j.addon.resizeBilinearPil(region, rw, rh, rbox, size, size, out);
  return out;
}

/**
 * The source pixels [first, end) that PIL's bilinear resize of inSize -> outSize reads for the
 * outputs [o, o + n) (Resample.c precompute_coeffs), widened by a pixel against rounding.
 */
export function bilinearSpan(inSize: number, outSize: number, o: number, n: number): [number, number] {
  if (inSize === outSize) return [o, o + n];
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const first = Math.trunc((o + 0.5) * scale - support + 0.5) - 1;
  const end = Math.trunc((o + n - 0.5) * scale + support + 0.5) + 1;
  return [Math.max(0, first), Math.min(inSize, end)];
}

/**
 * Resize(shorter side = resize) + CenterCrop(size) at full resolution (never drafted): only the
 * source region the crop reads is decoded; the result is byte-exact with resizing it all.
 */
export function renderEvalJpeg(file: string, j: FastJpeg, resize: number, size: number): { data: Uint8Array; box: CropBox } {
  const { width: W, height: H } = j.header;
  const r = resizeShorter(W, H, resize);
  const c = centerCropOffsets(r.width, r.height, size);
  const box = { left: (c.left * W) / r.width, top: (c.top * H) / r.height, width: (size * W) / r.width, height: (size * H) / r.height };
  const [x0, x1] = bilinearSpan(W, r.width, c.left, size);
  const [y0, y1] = bilinearSpan(H, r.height, c.top, size);
  const part = decodeRegion(file, j, 1, x0, y0, x1, y1);
  const data = new Uint8Array(size * size * 3);
  const window = { x: c.left, y: c.top, width: size, height: size };
  const source = { x: x0, y: y0, width: W, height: H };
  j.addon.resizeBilinearPil(part, x1 - x0, y1 - y0, { x0: 0, y0: 0, x1: W, y1: H }, r.width, r.height, data, window, source);
  return { data, box };
}
