// NHWC passes of the depthwise Conv2d loops (see conv2d_depthwise.cc): one output row per task,
// vectorized across the channels of a pixel; the weight gradient sums blocks of kChanBlock
// channels per task in a fixed order.
#include <algorithm>
#include <utility>
#include <vector>

#include "cpu/conv2d_depthwise.h"

namespace layerwise::cpu::depthwise {

// The weight as float (kh * kw, c): the channels of one tap are contiguous.
template <typename T>
std::vector<float> taps_by_channel(const Geo& g, const T* w) {
  const int64_t kk = g.kh * g.kw;
  std::vector<float> wt(static_cast<size_t>(kk * g.c));
  for (int64_t ch = 0; ch < g.c; ch++)
    for (int64_t k = 0; k < kk; k++) wt[k * g.c + ch] = to_f32(w[ch * kk + k]);
  return wt;
}

// y = the correlation of x with taps wt (kh * kw, c), geometry g, channels a multiple of 8: per
// output row, 4 pixels at a time where all their taps lie inside the row (each tap's 8 weights
// loaded once for the 4), else one pixel with bounds checks; 8 channels per vector.
template <typename T>
void nhwc_correlate_v8(const Geo& g, T* y, const T* x, const float* wt) {
  const int64_t C = g.c;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < g.n * g.oh; r++) {
    const int64_t i = r / g.oh, oy = r % g.oh;
    int64_t ky0 = g.ph - oy * g.sh, ky1 = g.h + g.ph - oy * g.sh;  // taps with 0 <= iy < h
    ky0 = ky0 > 0 ? ky0 : 0;
    ky1 = ky1 < g.kh ? ky1 : g.kh;
    const T* ximg = x + i * g.h * g.w * C;
    const int64_t iyb = oy * g.sh - g.ph;  // input row of tap ky = 0 (may lie outside)
    T* yrow = y + r * g.ow * C;
    int64_t ox = 0;
    while (ox < g.ow) {
      const int64_t ix0 = ox * g.sw - g.pw;
      const bool four = ox + 4 <= g.ow && ix0 >= 0 && (ox + 3) * g.sw - g.pw + g.kw <= g.w;
      if (four) {
        for (int64_t cb = 0; cb < C; cb += 8) {
          v8 a0 = splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
          for (int64_t ky = ky0; ky < ky1; ky++) {
            const T* px = ximg + ((iyb + ky) * g.w + ix0) * C + cb;
            const float* wk = wt + ky * g.kw * C + cb;
            for (int64_t kx = 0; kx < g.kw; kx++) {
              const v8 wv = ld(wk + kx * C);
              const T* p = px + kx * C;
              a0 += wv * ld(p);
              a1 += wv * ld(p + g.sw * C);
              a2 += wv * ld(p + 2 * g.sw * C);
              a3 += wv * ld(p + 3 * g.sw * C);
            }
          }
          const v8 acc[4] = {a0, a1, a2, a3};
          for (int j = 0; j < 4; j++) {
            T* out = yrow + (ox + j) * C + cb;
            for (int64_t ch = 0; ch < 8; ch++) out[ch] = from_f32<T>(acc[j][ch]);
          }
        }
        ox += 4;
        continue;
      }
      int64_t kx0 = -ix0, kx1 = g.w - ix0;
      kx0 = kx0 > 0 ? kx0 : 0;
      kx1 = kx1 < g.kw ? kx1 : g.kw;
      for (int64_t cb = 0; cb < C; cb += 8) {
        v8 a0 = splat(0.0f);
        for (int64_t ky = ky0; ky < ky1; ky++)
          for (int64_t kx = kx0; kx < kx1; kx++)
            a0 += ld(wt + (ky * g.kw + kx) * C + cb) * ld(ximg + ((iyb + ky) * g.w + ix0 + kx) * C + cb);
        T* out = yrow + ox * C + cb;
        for (int64_t ch = 0; ch < 8; ch++) out[ch] = from_f32<T>(a0[ch]);
      }
      ox++;
    }
  }
}

// The same correlation for any channel count, vectorized across the channels of one pixel.
template <typename T>
void nhwc_correlate(const Geo& g, T* y, const T* x, const float* wt) {
  if (g.c % 8 == 0) return nhwc_correlate_v8(g, y, x, wt);
  const int64_t C = g.c;
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<size_t>(C));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < g.n * g.oh; r++) {
      const int64_t i = r / g.oh, oy = r % g.oh;
      for (int64_t ox = 0; ox < g.ow; ox++) {
        float* a = acc.data();
        std::fill(a, a + C, 0.0f);
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t iy = oy * g.sh - g.ph + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const int64_t ix = ox * g.sw - g.pw + kx;
            if (ix < 0 || ix >= g.w) continue;
            const T* px = x + ((i * g.h + iy) * g.w + ix) * C;
            const float* wk = wt + (ky * g.kw + kx) * C;
#pragma omp simd
            for (int64_t ch = 0; ch < C; ch++) a[ch] += wk[ch] * to_f32(px[ch]);
          }
        }
        T* out = y + ((i * g.oh + oy) * g.ow + ox) * C;
#pragma omp simd
        for (int64_t ch = 0; ch < C; ch++) out[ch] = from_f32<T>(a[ch]);
      }
    }
  }
}

template <typename T>
void nhwc_forward(const Geo& g, T* y, const T* x, const T* w) {
  const std::vector<float> wt = taps_by_channel(g, w);
  nhwc_correlate(g, y, x, wt.data());
}

// dx gathered: dx[iy, ix] = sum over taps with (iy + ph - ky) / sh and (ix + pw - kx) / sw whole
// and inside the output of w[tap] * dy[oy, ox].
template <typename T>
void nhwc_backward_input(const Geo& g, T* dx, const T* dy, const T* w) {
  std::vector<float> wt = taps_by_channel(g, w);
  const int64_t C = g.c;
  if (g.sh == 1 && g.sw == 1 && g.ph <= g.kh - 1 && g.pw <= g.kw - 1) {  // correlate dy with the flipped taps
    const int64_t kk = g.kh * g.kw;
    for (int64_t k = 0; k < kk / 2; k++)
      for (int64_t ch = 0; ch < C; ch++) std::swap(wt[k * C + ch], wt[(kk - 1 - k) * C + ch]);
    return nhwc_correlate(transposed(g), dx, dy, wt.data());
  }
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<size_t>(C));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < g.n * g.h; r++) {
      const int64_t i = r / g.h, iy = r % g.h;
      for (int64_t ix = 0; ix < g.w; ix++) {
        float* a = acc.data();
        std::fill(a, a + C, 0.0f);
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t ty = iy + g.ph - ky;
          if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.oh) continue;
          const int64_t oy = ty / g.sh;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const int64_t tx = ix + g.pw - kx;
            if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.ow) continue;
            const T* pd = dy + ((i * g.oh + oy) * g.ow + tx / g.sw) * C;
            const float* wk = wt.data() + (ky * g.kw + kx) * C;
#pragma omp simd
            for (int64_t ch = 0; ch < C; ch++) a[ch] += wk[ch] * to_f32(pd[ch]);
          }
        }
        T* out = dx + ((i * g.h + iy) * g.w + ix) * C;
#pragma omp simd
        for (int64_t ch = 0; ch < C; ch++) out[ch] = from_f32<T>(a[ch]);
      }
    }
  }
}

template <typename T>
void nhwc_backward_weight(const Geo& g, T* dw, const T* dy, const T* x) {
  const int64_t C = g.c, kk = g.kh * g.kw;
  const int64_t blocks = (C + kChanBlock - 1) / kChanBlock;
#pragma omp parallel
  {
    std::vector<float> row(static_cast<size_t>(kk * kChanBlock));
    std::vector<double> total(static_cast<size_t>(kk * kChanBlock));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
      const int64_t c0 = b * kChanBlock, nc = std::min(kChanBlock, C - c0);
      std::fill(total.begin(), total.end(), 0.0);
      for (int64_t i = 0; i < g.n; i++) {
        for (int64_t oy = 0; oy < g.oh; oy++) {
          std::fill(row.begin(), row.end(), 0.0f);
          for (int64_t ox = 0; ox < g.ow; ox++) {
            const T* pd = dy + ((i * g.oh + oy) * g.ow + ox) * C + c0;
            float d[kChanBlock];
            for (int64_t ch = 0; ch < nc; ch++) d[ch] = to_f32(pd[ch]);
            for (int64_t ky = 0; ky < g.kh; ky++) {
              const int64_t iy = oy * g.sh - g.ph + ky;
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t kx = 0; kx < g.kw; kx++) {
                const int64_t ix = ox * g.sw - g.pw + kx;
                if (ix < 0 || ix >= g.w) continue;
                const T* px = x + ((i * g.h + iy) * g.w + ix) * C + c0;
                float* acc = row.data() + (ky * g.kw + kx) * kChanBlock;
                if (nc == kChanBlock) {
#pragma omp simd
                  for (int64_t ch = 0; ch < kChanBlock; ch++) acc[ch] += d[ch] * to_f32(px[ch]);
                } else {
                  for (int64_t ch = 0; ch < nc; ch++) acc[ch] += d[ch] * to_f32(px[ch]);
                }
              }
            }
          }
          for (int64_t k = 0; k < kk * kChanBlock; k++) total[k] += static_cast<double>(row[k]);
        }
      }
      for (int64_t k = 0; k < kk; k++)
        for (int64_t ch = 0; ch < nc; ch++) dw[(c0 + ch) * kk + k] = from_f32<T>(static_cast<float>(total[k * kChanBlock + ch]));
    }
  }
}

template void nhwc_forward<float>(const Geo&, float*, const float*, const float*);
template void nhwc_forward<bf16>(const Geo&, bf16*, const bf16*, const bf16*);
template void nhwc_backward_input<float>(const Geo&, float*, const float*, const float*);
template void nhwc_backward_input<bf16>(const Geo&, bf16*, const bf16*, const bf16*);
template void nhwc_backward_weight<float>(const Geo&, float*, const float*, const float*);
template void nhwc_backward_weight<bf16>(const Geo&, bf16*, const bf16*, const bf16*);

}  // namespace layerwise::cpu::depthwise
