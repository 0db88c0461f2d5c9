// PIL's antialiased BILINEAR resize (Pillow's libImaging/Resample.c, what torchvision's default
// Resize/RandomResizedCrop run on PIL images) for HWC uint8 RGB buffers: per axis, a triangle
// filter whose support is max(1, in/out) input pixels around the centre in0 + (x + .5) * in/out,
// weights renormalized at the image edges, fixed point with 22 fractional bits, the horizontal
// pass first (rounded to uint8) then the vertical. sample.ts uses it for the axes that *enlarge*:
// libvips' upsampling maps output x to input x * in/out (corner-aligned, a shift of up to half an
// input pixel against PIL) while its reduction matches PIL within 0.5 level on average; the
// enlarging axes are cheap (the input is smaller than the output).

const PRECISION_BITS = 22;

interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output index
  weights: Int32Array; // ksize per output index
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter over [0, inSize). */
export function bilinearCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(v: number): number {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

function horizontal(src: Uint8Array, sw: number, h: number, dw: number): Uint8Array {
  const { ksize, bounds, weights } = bilinearCoeffs(sw, dw);
  const out = new Uint8Array(dw * h * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < h; y++) {
    const row = y * sw * 3;
    for (let xx = 0; xx < dw; xx++) {
      const xmin = bounds[xx * 2];
      const n = bounds[xx * 2 + 1];
      const kb = xx * ksize;
      let s0 = half;
      let s1 = half;
      let s2 = half;
      for (let x = 0; x < n; x++) {
        const w = weights[kb + x];
        const p = row + (xmin + x) * 3;
        s0 += src[p] * w;
        s1 += src[p + 1] * w;
        s2 += src[p + 2] * w;
      }
      const o = (y * dw + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return out;
}

function vertical(src: Uint8Array, w: number, sh: number, dh: number): Uint8Array {
  const { ksize, bounds, weights } = bilinearCoeffs(sh, dh);
  const out = new Uint8Array(w * dh * 3);
  const half = 1 << (PRECISION_BITS - 1);
  const row = w * 3;
  for (let yy = 0; yy < dh; yy++) {
    const ymin = bounds[yy * 2];
    const n = bounds[yy * 2 + 1];
    const kb = yy * ksize;
    for (let i = 0; i < row; i++) {
      let s = half;
      for (let y = 0; y < n; y++) s += src[(ymin + y) * row + i] * weights[kb + y];
      out[yy * row + i] = clip8(s);
    }
  }
  return out;
}

/** PIL Image.resize((dw, dh), BILINEAR) of a sw x sh RGB image; axes of unchanged size are skipped. */
export function resizeBilinear(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  if (src.length !== sw * sh * 3) throw new RangeError(`resizeBilinear: ${src.length} bytes is not ${sw}x${sh}x3`);
  let img = src;
  if (dw !== sw) img = horizontal(img, sw, sh, dw);
  if (dh !== sh) img = vertical(img, dw, sh, dh);
  return img === src ? Uint8Array.from(src) : img;
}
