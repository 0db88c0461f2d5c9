// The RandAugment image ops on HWC uint8 RGB buffers, with the semantics of the PIL functions
// timm.data.auto_augment calls (Pillow 12): ImageOps.autocontrast/equalize/invert/posterize/
// solarize, timm's solarize_add LUT, ImageEnhance.Color/Contrast/Brightness/Sharpness
// (Image.blend in float32 with truncation, clipped when extrapolating), and Image.transform
// AFFINE with PIL's conventions (output pixel centre (x+.5, y+.5) mapped by the inverse matrix,
// bilinear sampling with edge clamping, pixels mapped outside the image keep the fill colour).
// test/data/image-randaugment.test.ts compares every op with PIL fixtures: all byte-exact.

export type Rgb = [number, number, number];

const f32 = Math.fround;

/** Applies a per-channel lookup table (lut[c * 256 + v]) in place. */
function applyLut(img: Uint8Array, lut: Uint8Array): void {
  for (let i = 0; i < img.length; i += 3) {
    img[i] = lut[img[i]];
    img[i + 1] = lut[256 + img[i + 1]];
    img[i + 2] = lut[512 + img[i + 2]];
  }
}

function histograms(img: Uint8Array): Int32Array {
  const h = new Int32Array(768);
  for (let i = 0; i < img.length; i += 3) {
    h[img[i]]++;
    h[256 + img[i + 1]]++;
    h[512 + img[i + 2]]++;
  }
  return h;
}

function sameLut(f: (v: number) => number): Uint8Array {
  const lut = new Uint8Array(768);
  for (let v = 0; v < 256; v++) lut[v] = lut[256 + v] = lut[512 + v] = f(v);
  return lut;
}

/** ImageOps.autocontrast (cutoff 0): each channel stretched from [lo, hi] to [0, 255], truncated. */
export function autoContrast(img: Uint8Array): void {
  const h = histograms(img);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    let lo = 0;
    while (lo < 256 && h[c * 256 + lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[c * 256 + hi] === 0) hi--;
    for (let v = 0; v < 256; v++) {
      if (hi <= lo) lut[c * 256 + v] = v;
      else {
        const scale = 255 / (hi - lo);
        const x = Math.trunc(v * scale - lo * scale);
        lut[c * 256 + v] = x < 0 ? 0 : x > 255 ? 255 : x;
      }
    }
  }
  applyLut(img, lut);
}

/** ImageOps.equalize: per channel, step = (count - count of the top value) // 255. */
export function equalize(img: Uint8Array): void {
  const h = histograms(img);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    let total = 0;
    let last = 0;
    let nonzero = 0;
    for (let v = 0; v < 256; v++) {
      const k = h[c * 256 + v];
      if (k) {
        total += k;
        last = k;
        nonzero++;
      }
    }
    const step = Math.floor((total - last) / 255);
    let n = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      if (nonzero <= 1 || step === 0) lut[c * 256 + v] = v;
      else {
        lut[c * 256 + v] = Math.min(255, Math.floor(n / step));
        n += h[c * 256 + v];
      }
    }
  }
  applyLut(img, lut);
}

export function invert(img: Uint8Array): void {
  for (let i = 0; i < img.length; i++) img[i] = 255 - img[i];
}

/** ImageOps.posterize: keeps the `bits` most significant bits (timm skips bits >= 8). */
export function posterize(img: Uint8Array, bits: number): void {
  if (bits >= 8) return;
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  applyLut(img, sameLut((v) => v & mask));
}

/** ImageOps.solarize: values >= threshold are inverted. */
export function solarize(img: Uint8Array, threshold: number): void {
  applyLut(img, sameLut((v) => (v < threshold ? v : 255 - v)));
}

/** timm's solarize_add: values < threshold get `add` added (clipped at 255). */
export function solarizeAdd(img: Uint8Array, add: number, threshold = 128): void {
  applyLut(img, sameLut((v) => (v < threshold ? Math.min(255, v + add) : v)));
}

/** Image.blend(degenerate, img, factor) into img: float32 arithmetic, truncated, clipped. */
function blend(degenerate: Uint8Array, img: Uint8Array, factor: number): void {
  const a = f32(factor);
  const inside = a >= 0 && a <= 1;
  for (let i = 0; i < img.length; i++) {
    const d = degenerate[i];
    const t = f32(d + f32(a * (img[i] - d)));
    img[i] = inside ? Math.trunc(t) : t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
  }
}

/** PIL's RGB -> L conversion: (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/** ImageEnhance.Color: blend with the image's grayscale (convert('L').convert('RGB')). */
export function color(img: Uint8Array, factor: number): void {
  const deg = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i += 3) {
    const l = luma(img[i], img[i + 1], img[i + 2]);
    deg[i] = deg[i + 1] = deg[i + 2] = l;
  }
  blend(deg, img, factor);
}

/** ImageEnhance.Contrast: blend with a flat image of the rounded mean luma. */
export function contrast(img: Uint8Array, factor: number): void {
  let sum = 0;
  for (let i = 0; i < img.length; i += 3) sum += luma(img[i], img[i + 1], img[i + 2]);
  const mean = Math.trunc(sum / (img.length / 3) + 0.5);
  blend(new Uint8Array(img.length).fill(mean), img, factor);
}

/** ImageEnhance.Brightness: blend with black. */
export function brightness(img: Uint8Array, factor: number): void {
  blend(new Uint8Array(img.length), img, factor);
}

/**
 * ImageEnhance.Sharpness: blend with ImageFilter.SMOOTH (3x3 [1 1 1; 1 5 1; 1 1 1] / 13 in
 * float32, rounded to nearest, border pixels copied).
 */
export function sharpness(img: Uint8Array, width: number, height: number, factor: number): void {
  const deg = Uint8Array.from(img);
  const k1 = f32(1 / 13);
  const k5 = f32(5 / 13);
  const row = width * 3;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      for (let c = 0; c < 3; c++) {
        const o = y * row + x * 3 + c;
        // PIL sums the row below first, then the row, then the row above, each left to right.
        const b = o + row;
        const a = o - row;
        let s = f32(f32(f32(img[b - 3] * k1) + f32(img[b] * k1)) + f32(img[b + 3] * k1));
        s = f32(s + f32(f32(f32(img[o - 3] * k1) + f32(img[o] * k5)) + f32(img[o + 3] * k1)));
        s = f32(s + f32(f32(f32(img[a - 3] * k1) + f32(img[a] * k1)) + f32(img[a + 3] * k1)));
        deg[o] = s <= 0 ? 0 : s >= 255 ? 255 : Math.trunc(s + 0.5);
      }
    }
  }
  blend(deg, img, factor);
}

/**
 * Image.transform(size, AFFINE, (a, b, c, d, e, f), BILINEAR, fillcolor): output pixel (x, y)
 * samples the input at (a(x+.5) + b(y+.5) + c, d(x+.5) + e(y+.5) + f), bilinearly with edge
 * clamping (PIL's bilinear_filter32RGB, truncated); samples outside [0, w) x [0, h) get `fill`.
 */
export function affine(img: Uint8Array, width: number, height: number, m: number[], fill: Rgb): Uint8Array {
  const out = new Uint8Array(img.length);
  const row = width * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * row + x * 3;
      let xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
      let yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
      if (!(xin >= 0 && xin < width && yin >= 0 && yin < height)) {
        out[o] = fill[0];
        out[o + 1] = fill[1];
        out[o + 2] = fill[2];
        continue;
      }
      xin -= 0.5;
      yin -= 0.5;
      const xi = Math.floor(xin);
      const yi = Math.floor(yin);
      const dx = xin - xi;
      const dy = yin - yi;
      const x0 = (xi < 0 ? 0 : xi) * 3;
      const x1 = (xi + 1 < width ? xi + 1 : width - 1) * 3;
      const r0 = (yi < 0 ? 0 : yi) * row;
      const hasR1 = yi + 1 >= 0 && yi + 1 < height;
      const r1 = (yi + 1) * row;
      for (let c = 0; c < 3; c++) {
        const a0 = img[r0 + x0 + c];
        const v1 = a0 + (img[r0 + x1 + c] - a0) * dx;
        let v2 = v1;
        if (hasR1) {
          const b0 = img[r1 + x0 + c];
          v2 = b0 + (img[r1 + x1 + c] - b0) * dx;
        }
        out[o + c] = Math.trunc(v1 + (v2 - v1) * dy);
      }
    }
  }
  return out;
}

/** The matrix PIL's Image.rotate(degrees) (expand=False, centre (w/2, h/2)) passes to transform. */
export function rotateMatrix(width: number, height: number, degrees: number): number[] {
  const angle = -((((degrees % 360) + 360) % 360) * Math.PI) / 180;
  const r15 = (v: number) => Math.round(v * 1e15) / 1e15;
  const a = r15(Math.cos(angle));
  const b = r15(Math.sin(angle));
  const d = r15(-Math.sin(angle));
  const e = a;
  const cx = width / 2;
  const cy = height / 2;
  return [a, b, a * -cx + b * -cy + cx, d, e, d * -cx + e * -cy + cy];
}
