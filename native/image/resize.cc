// PIL's antialiased BILINEAR resample (Pillow's libImaging/Resample.c, what torchvision's
// Resize/RandomResizedCrop run on PIL images) for HWC uint8 RGB, in C++ for the decode workers:
// per axis a triangle filter of support max(1, in/out) input pixels around in0 + (x + .5) * in/out,
// weights renormalized at the image edges, fixed point with 22 fractional bits, the horizontal pass
// first (rounded to uint8) then the vertical. Byte-exact with src/data/image/resize.ts (the same
// double arithmetic for the coefficients); the output window lets Resize + CenterCrop compute
// only the cropped pixels, from only the part of the source they need (a region decode).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

#include "jpeg.h"

namespace lwimage {
namespace {

constexpr int kPrecisionBits = 22;

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;   // [min, count] per output index
  std::vector<int> weights;  // ksize per output index
};

Coeffs bilinearCoeffs(int inSize, double in0, double in1, int outSize) {
  Coeffs c;
  const double scale = (in1 - in0) / outSize;
  const double filterscale = scale > 1 ? scale : 1;
  const double support = filterscale;
  c.ksize = (int)std::ceil(support) * 2 + 1;
  c.bounds.assign((size_t)outSize * 2, 0);
  c.weights.assign((size_t)outSize * c.ksize, 0);
  std::vector<double> k((size_t)c.ksize);
  for (int xx = 0; xx < outSize; xx++) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1 / filterscale;
    int xmin = (int)std::trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)std::trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    double ww = 0;
    for (int x = 0; x < xmax; x++) {
      const double t = std::fabs(((double)(x + xmin) - center + 0.5) * ss);
      const double w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; x++) {
      const double w = ww != 0 ? k[x] / ww : k[x];
      c.weights[(size_t)xx * c.ksize + x] =
          w < 0 ? (int)std::trunc(-0.5 + w * (1 << kPrecisionBits)) : (int)std::trunc(0.5 + w * (1 << kPrecisionBits));
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int v) {
  const int s = v >> kPrecisionBits;
  return (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
}

}  // namespace

bool resizeBilinearPil(const uint8_t* src, const ResizeSource& source, ResizeBox box, int dw, int dh,
                       int ox, int oy, int ow, int oh, uint8_t* out, char* message) {
  const int bw = source.width, bh = source.height, sx = source.x, sy = source.y;
  const int sw = source.fullWidth, sh = source.fullHeight;
  if (bw < 1 || bh < 1 || sx < 0 || sy < 0 || sx + bw > sw || sy + bh > sh || dw < 1 || dh < 1 || ox < 0 || oy < 0 ||
      ow < 1 || oh < 1 || ox + ow > dw || oy + oh > dh ||
      !(box.x0 >= 0 && box.x1 <= sw && box.x0 < box.x1 && box.y0 >= 0 && box.y1 <= sh && box.y0 < box.y1)) {
    std::snprintf(message, 200,
                  "resizeBilinearPil: bad sizes: %dx%d at %d,%d of %dx%d, box %g,%g-%g,%g -> %dx%d window %d,%d %dx%d", bw, bh,
                  sx, sy, sw, sh, box.x0, box.y0, box.x1, box.y1, dw, dh, ox, oy, ow, oh);
    return false;
  }
  const int half = 1 << (kPrecisionBits - 1);
  const bool needH = !(dw == sw && box.x0 == 0 && box.x1 == sw);
  const bool needV = !(dh == sh && box.y0 == 0 && box.y1 == sh);
  Coeffs v, h;
  // The source rows and columns the window needs (full-image coordinates), which the given part
  // of the source must hold.
  int rowFirst = oy, rowEnd = oy + oh, colFirst = ox, colEnd = ox + ow;
  auto span = [](const Coeffs& c, int from, int to, int* first, int* end) {
    *first = 1 << 30;
    *end = 0;
    for (int i = from; i < to; i++) {
      const int a = c.bounds[i * 2], n = c.bounds[i * 2 + 1];
      if (n == 0) continue;
      if (a < *first) *first = a;
      if (a + n > *end) *end = a + n;
    }
    if (*end < *first) *first = *end = from;
  };
  if (needV) {
    v = bilinearCoeffs(sh, box.y0, box.y1, dh);
    span(v, oy, oy + oh, &rowFirst, &rowEnd);
  }
  if (needH) {
    h = bilinearCoeffs(sw, box.x0, box.x1, dw);
    span(h, ox, ox + ow, &colFirst, &colEnd);
  }
  if (rowFirst < sy || rowEnd > sy + bh || colFirst < sx || colEnd > sx + bw) {
    std::snprintf(message, 200, "resizeBilinearPil: the window needs source columns %d..%d rows %d..%d, given %d..%d, %d..%d",
                  colFirst, colEnd, rowFirst, rowEnd, sx, sx + bw, sy, sy + bh);
    return false;
  }
  // The horizontal pass's result (rows [rowFirst, rowEnd), output columns [ox, ox + ow)), or the
  // source itself when the horizontal axis is unchanged.
  std::vector<uint8_t> tmp;
  const uint8_t* mid;
  size_t midStride;  // bytes per row of mid
  int midBase;       // the full-image row of mid's first row
  if (needH) {
    tmp.resize((size_t)(rowEnd - rowFirst) * ow * 3);
    for (int y = rowFirst; y < rowEnd; y++) {
      const uint8_t* row = src + (size_t)(y - sy) * bw * 3;
      uint8_t* o = tmp.data() + (size_t)(y - rowFirst) * ow * 3;
      for (int xx = ox; xx < ox + ow; xx++) {
        const int xmin = h.bounds[xx * 2] - sx, n = h.bounds[xx * 2 + 1];
        const int* w = h.weights.data() + (size_t)xx * h.ksize;
        const uint8_t* p = row + (size_t)xmin * 3;
        int s0 = half, s1 = half, s2 = half;
#if defined(__SSE4_1__)
        // One tap = one pixel's 4 bytes (RGB + the next pixel's R, weighted but dropped) widened
        // to int32 lanes: the same integer sums as the scalar loop. The buffer's very last pixel
        // has no 4th byte, so a run ending there takes the scalar loop.
        if (y - sy + 1 < bh || xmin + n < bw) {
          __m128i acc = _mm_set1_epi32(half);
          for (int x = 0; x < n; x++) {
            int32_t px;
            std::memcpy(&px, p + 3 * x, 4);
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(px)), _mm_set1_epi32(w[x])));
          }
          s0 = _mm_cvtsi128_si32(acc);
          s1 = _mm_extract_epi32(acc, 1);
          s2 = _mm_extract_epi32(acc, 2);
        } else
#endif
        {
          for (int x = 0; x < n; x++) {
            s0 += p[3 * x] * w[x];
            s1 += p[3 * x + 1] * w[x];
            s2 += p[3 * x + 2] * w[x];
          }
        }
        o[0] = clip8(s0);
        o[1] = clip8(s1);
        o[2] = clip8(s2);
        o += 3;
      }
    }
    mid = tmp.data();
    midBase = rowFirst;
    midStride = (size_t)ow * 3;
  } else {
    mid = src + (size_t)(ox - sx) * 3;
    midBase = sy;
    midStride = (size_t)bw * 3;
  }
  const int rowBytes = ow * 3;
  if (!needV) {
    for (int yy = 0; yy < oh; yy++) std::memcpy(out + (size_t)yy * rowBytes, mid + (size_t)(oy + yy - midBase) * midStride, rowBytes);
    return true;
  }
  std::vector<int> acc((size_t)rowBytes);
  for (int yy = oy; yy < oy + oh; yy++) {
    const int ymin = v.bounds[yy * 2], n = v.bounds[yy * 2 + 1];
    const int* w = v.weights.data() + (size_t)yy * v.ksize;
    for (int i = 0; i < rowBytes; i++) acc[i] = half;
    for (int y = 0; y < n; y++) {
      const uint8_t* r = mid + (size_t)(ymin + y - midBase) * midStride;
      const int wy = w[y];
      for (int i = 0; i < rowBytes; i++) acc[i] += r[i] * wy;
    }
    uint8_t* o = out + (size_t)(yy - oy) * rowBytes;
    for (int i = 0; i < rowBytes; i++) o[i] = clip8(acc[i]);
  }
  return true;
}

}  // namespace lwimage
