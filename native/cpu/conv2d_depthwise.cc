// Depthwise Conv2d (groups == in_channels == out_channels, one filter per channel) as direct loops:
// odd kernels, stride 1 or 2, any zero padding, dilation 1, float32 and bfloat16 storage (float
// arithmetic, bfloat16 converted to float as it is loaded). conv2d.cc decides per pass, dtype
// and format whether this path or oneDNN runs (see default_depthwise there, from measurements).
//   NCHW: one (sample, channel) plane per task, staged into a zero-padded float plane, so the
//         loops along a row have no bounds checks and vectorize along the row.
//   NHWC (conv2d_depthwise_nhwc.cc): one output row per task, vectorized across the channels of a pixel.
//   Weight gradient: each channel (NCHW) or block of kChanBlock channels (NHWC) is summed by one
//   task over (sample, row) in a fixed order, rows in float and then added in double, so the
//   result does not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "cpu/conv2d_depthwise.h"

namespace layerwise::cpu {

namespace {

using namespace depthwise;

// ---- NCHW ----

// The zero-padded float copy of one (h, w) plane.
template <typename T>
void pad_plane(float* dst, const T* src, const Geo& g) {
  const int64_t PW = g.PW();
  std::fill(dst, dst + g.PH() * PW, 0.0f);
  for (int64_t y = 0; y < g.h; y++) {
    float* d = dst + (y + g.ph) * PW + g.pw;
    const T* r = src + y * g.w;
#pragma omp simd
    for (int64_t x = 0; x < g.w; x++) d[x] = to_f32(r[x]);
  }
}

// One output row of a stride-1 correlation: a[ox] = sum over taps of wf[ky, kx] * rows[ky * PW + ox + kx],
// 32 and then 8 outputs at a time in registers, the rest one by one.
void conv_row_s1(float* a, const float* rows, int64_t PW, const float* wf, int64_t kh, int64_t kw, int64_t ow) {
  int64_t ox = 0;
  for (; ox + 32 <= ow; ox += 32) {
    v8 a0 = splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t ky = 0; ky < kh; ky++) {
      const float* r = rows + ky * PW + ox;
      for (int64_t kx = 0; kx < kw; kx++) {
        const v8 wv = splat(wf[ky * kw + kx]);
        a0 += wv * ld(r + kx);
        a1 += wv * ld(r + kx + 8);
        a2 += wv * ld(r + kx + 16);
        a3 += wv * ld(r + kx + 24);
      }
    }
    st(a + ox, a0);
    st(a + ox + 8, a1);
    st(a + ox + 16, a2);
    st(a + ox + 24, a3);
  }
  for (; ox + 8 <= ow; ox += 8) {
    v8 a0 = splat(0.0f);
    for (int64_t ky = 0; ky < kh; ky++) {
      const float* r = rows + ky * PW + ox;
      for (int64_t kx = 0; kx < kw; kx++) a0 += splat(wf[ky * kw + kx]) * ld(r + kx);
    }
    st(a + ox, a0);
  }
  for (; ox < ow; ox++) {
    float acc = 0.0f;
    for (int64_t ky = 0; ky < kh; ky++)
      for (int64_t kx = 0; kx < kw; kx++) acc += wf[ky * kw + kx] * rows[ky * PW + ox + kx];
    a[ox] = acc;
  }
}

// Stride 1: pads each plane by (g.ph, g.pw), then conv_row_s1 per row. wf_of(ch, wf) fills the
// plane's taps (the weight, or its flip for the input gradient).
template <typename T, typename Taps>
void nchw_correlate_s1(const Geo& g, T* y, const T* x, Taps wf_of) {
  const int64_t planes = g.n * g.c, PW = g.PW();
#pragma omp parallel
  {
    std::vector<float> pad(static_cast<size_t>(g.PH() * PW + 8)), acc(static_cast<size_t>(g.ow)), wf(static_cast<size_t>(g.kh * g.kw));
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      pad_plane(pad.data(), x + pl * g.h * g.w, g);
      wf_of(pl % g.c, wf.data());
      for (int64_t oy = 0; oy < g.oh; oy++) {
        conv_row_s1(acc.data(), pad.data() + oy * PW, PW, wf.data(), g.kh, g.kw, g.ow);
        T* out = y + pl * g.oh * g.ow + oy * g.ow;
#pragma omp simd
        for (int64_t ox = 0; ox < g.ow; ox++) out[ox] = from_f32<T>(acc[ox]);
      }
    }
  }
}


template <typename T>
void nchw_forward(const Geo& g, T* y, const T* x, const T* w) {
  if (g.sh == 1 && g.sw == 1) {
    const int64_t kk = g.kh * g.kw;
    return nchw_correlate_s1(g, y, x, [&](int64_t ch, float* wf) {
      for (int64_t k = 0; k < kk; k++) wf[k] = to_f32(w[ch * kk + k]);
    });
  }
  const int64_t planes = g.n * g.c, PW = g.PW();
#pragma omp parallel
  {
    std::vector<float> pad(static_cast<size_t>(g.PH() * PW)), acc(static_cast<size_t>(g.ow)), wf(static_cast<size_t>(g.kh * g.kw));
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      const int64_t ch = pl % g.c;
      pad_plane(pad.data(), x + pl * g.h * g.w, g);
      for (int64_t k = 0; k < g.kh * g.kw; k++) wf[k] = to_f32(w[ch * g.kh * g.kw + k]);
      float* a = acc.data();
      for (int64_t oy = 0; oy < g.oh; oy++) {
        std::fill(a, a + g.ow, 0.0f);
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const float* row = pad.data() + (oy * g.sh + ky) * PW;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const float wv = wf[ky * g.kw + kx];
            const float* r = row + kx;
            if (g.sw == 1) {
#pragma omp simd
              for (int64_t ox = 0; ox < g.ow; ox++) a[ox] += wv * r[ox];
            } else {
#pragma omp simd
              for (int64_t ox = 0; ox < g.ow; ox++) a[ox] += wv * r[ox * g.sw];
            }
          }
        }
        T* out = y + pl * g.oh * g.ow + oy * g.ow;
#pragma omp simd
        for (int64_t ox = 0; ox < g.ow; ox++) out[ox] = from_f32<T>(a[ox]);
      }
    }
  }
}

// dx: the forward's transpose, scattered into a padded float plane, then cropped.
template <typename T>
void nchw_backward_input(const Geo& g, T* dx, const T* dy, const T* w) {
  if (g.sh == 1 && g.sw == 1 && g.ph <= g.kh - 1 && g.pw <= g.kw - 1) {
    const int64_t kk = g.kh * g.kw;
    return nchw_correlate_s1(transposed(g), dx, dy, [&](int64_t ch, float* wf) {
      for (int64_t k = 0; k < kk; k++) wf[k] = to_f32(w[ch * kk + kk - 1 - k]);
    });
  }
  const int64_t planes = g.n * g.c, PW = g.PW();
#pragma omp parallel
  {
    std::vector<float> pad(static_cast<size_t>(g.PH() * PW)), row(static_cast<size_t>(g.ow)), wf(static_cast<size_t>(g.kh * g.kw));
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      const int64_t ch = pl % g.c;
      for (int64_t k = 0; k < g.kh * g.kw; k++) wf[k] = to_f32(w[ch * g.kh * g.kw + k]);
      float* p = pad.data();
      std::fill(p, p + g.PH() * PW, 0.0f);
      float* d = row.data();
      for (int64_t oy = 0; oy < g.oh; oy++) {
        const T* src = dy + pl * g.oh * g.ow + oy * g.ow;
#pragma omp simd
        for (int64_t ox = 0; ox < g.ow; ox++) d[ox] = to_f32(src[ox]);
        for (int64_t ky = 0; ky < g.kh; ky++) {
          float* prow = p + (oy * g.sh + ky) * PW;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const float wv = wf[ky * g.kw + kx];
            float* r = prow + kx;
            if (g.sw == 1) {
#pragma omp simd
              for (int64_t ox = 0; ox < g.ow; ox++) r[ox] += wv * d[ox];
            } else {
              for (int64_t ox = 0; ox < g.ow; ox++) r[ox * g.sw] += wv * d[ox];
            }
          }
        }
      }
      for (int64_t iy = 0; iy < g.h; iy++) {
        const float* s = p + (iy + g.ph) * PW + g.pw;
        T* out = dx + pl * g.h * g.w + iy * g.w;
#pragma omp simd
        for (int64_t ix = 0; ix < g.w; ix++) out[ix] = from_f32<T>(s[ix]);
      }
    }
  }
}

// Stride 1, kw <= kMaxKw: per kernel row ky, kw vector accumulators over the plane (dy loaded
// once for all kx), reduced in a fixed lane order and added in double per sample.
template <typename T>
void nchw_backward_weight_s1(const Geo& g, T* dw, const T* dy, const T* x) {
  const int64_t PW = g.PW(), kk = g.kh * g.kw;
#pragma omp parallel
  {
    std::vector<float> pad(static_cast<size_t>(g.PH() * PW + 8)), d(static_cast<size_t>(g.oh * g.ow));
    std::vector<double> total(static_cast<size_t>(kk));
#pragma omp for schedule(static)
    for (int64_t ch = 0; ch < g.c; ch++) {
      std::fill(total.begin(), total.end(), 0.0);
      for (int64_t i = 0; i < g.n; i++) {
        const int64_t pl = i * g.c + ch;
        pad_plane(pad.data(), x + pl * g.h * g.w, g);
        const T* src = dy + pl * g.oh * g.ow;
        for (int64_t k = 0; k < g.oh * g.ow; k++) d[k] = to_f32(src[k]);
        for (int64_t ky = 0; ky < g.kh; ky++) {
          v8 acc[kMaxKw];
          float tail[kMaxKw];
          for (int64_t kx = 0; kx < g.kw; kx++) {
            acc[kx] = splat(0.0f);
            tail[kx] = 0.0f;
          }
          for (int64_t oy = 0; oy < g.oh; oy++) {
            const float* r = pad.data() + (oy + ky) * PW;
            const float* dr = d.data() + oy * g.ow;
            int64_t ox = 0;
            for (; ox + 8 <= g.ow; ox += 8) {
              const v8 dv = ld(dr + ox);
              for (int64_t kx = 0; kx < g.kw; kx++) acc[kx] += dv * ld(r + ox + kx);
            }
            for (; ox < g.ow; ox++)
              for (int64_t kx = 0; kx < g.kw; kx++) tail[kx] += dr[ox] * r[ox + kx];
          }
          for (int64_t kx = 0; kx < g.kw; kx++)
            total[ky * g.kw + kx] += static_cast<double>(hsum(acc[kx])) + static_cast<double>(tail[kx]);
        }
      }
      for (int64_t k = 0; k < kk; k++) dw[ch * kk + k] = from_f32<T>(static_cast<float>(total[k]));
    }
  }
}

template <typename T>
void nchw_backward_weight(const Geo& g, T* dw, const T* dy, const T* x) {
  if (g.sh == 1 && g.sw == 1 && g.kw <= kMaxKw) return nchw_backward_weight_s1(g, dw, dy, x);
  const int64_t PW = g.PW(), kk = g.kh * g.kw;
#pragma omp parallel
  {
    std::vector<float> pad(static_cast<size_t>(g.PH() * PW)), d(static_cast<size_t>(g.ow));
    std::vector<double> total(static_cast<size_t>(kk));
#pragma omp for schedule(static)
    for (int64_t ch = 0; ch < g.c; ch++) {
      std::fill(total.begin(), total.end(), 0.0);
      for (int64_t i = 0; i < g.n; i++) {
        const int64_t pl = i * g.c + ch;
        pad_plane(pad.data(), x + pl * g.h * g.w, g);
        for (int64_t oy = 0; oy < g.oh; oy++) {
          const T* src = dy + pl * g.oh * g.ow + oy * g.ow;
#pragma omp simd
          for (int64_t ox = 0; ox < g.ow; ox++) d[ox] = to_f32(src[ox]);
          for (int64_t ky = 0; ky < g.kh; ky++) {
            const float* row = pad.data() + (oy * g.sh + ky) * PW;
            for (int64_t kx = 0; kx < g.kw; kx++) {
              const float* r = row + kx;
              float s = 0.0f;
              if (g.sw == 1) {
#pragma omp simd reduction(+ : s)
                for (int64_t ox = 0; ox < g.ow; ox++) s += d[ox] * r[ox];
              } else {
#pragma omp simd reduction(+ : s)
                for (int64_t ox = 0; ox < g.ow; ox++) s += d[ox] * r[ox * g.sw];
              }
              total[ky * g.kw + kx] += static_cast<double>(s);
            }
          }
        }
      }
      for (int64_t k = 0; k < kk; k++) dw[ch * kk + k] = from_f32<T>(static_cast<float>(total[k]));
    }
  }
}

template <typename T>
void run(ConvPass pass, const Geo& g, bool channels_last, void* out, const void* a, const void* b) {
  T* o = static_cast<T*>(out);
  const T* in0 = static_cast<const T*>(a);
  const T* in1 = static_cast<const T*>(b);
  switch (pass) {
    case ConvPass::kForward: return channels_last ? nhwc_forward(g, o, in0, in1) : nchw_forward(g, o, in0, in1);
    case ConvPass::kBackwardInput:
      return channels_last ? nhwc_backward_input(g, o, in0, in1) : nchw_backward_input(g, o, in0, in1);
    case ConvPass::kBackwardWeight:
      return channels_last ? nhwc_backward_weight(g, o, in0, in1) : nchw_backward_weight(g, o, in0, in1);
  }
}

}  // namespace

bool depthwise_supported(const ConvShape& s, DType dtype) {
  return s.groups == s.in_channels && s.groups == s.out_channels && s.kernel_h % 2 == 1 && s.kernel_w % 2 == 1 &&
         (s.stride_h == 1 || s.stride_h == 2) && (s.stride_w == 1 || s.stride_w == 2) && s.dilation_h == 1 &&
         s.dilation_w == 1 && (dtype == DType::kF32 || dtype == DType::kBF16);
}

Status conv2d_depthwise(ConvPass pass, const char* op, const ConvShape& s, DType dtype, bool channels_last, void* out,
                        const void* in0, const void* in1) {
  const Geo g = geo(s);
  try {
    if (dtype == DType::kF32) run<float>(pass, g, channels_last, out, in0, in1);
    else run<bf16>(pass, g, channels_last, out, in0, in1);
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "out of memory in the depthwise path (" + s.describe() + ")");
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
