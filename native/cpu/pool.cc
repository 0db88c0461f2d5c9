// Pooling on the CPU: max pooling (with argmax indices for the backward), average pooling and
// global average pooling, forward and backward, NCHW or channels-last NHWC; float32, bfloat16 or
// float16 storage with float arithmetic (window sums in float, global means in double).
// Semantics follow PyTorch's CPU kernels (aten/src/ATen/native/cpu/MaxPoolKernel.cpp and
// AvgPoolKernel.cpp): max pooling treats padding as -inf, takes the first maximum (a NaN wins),
// and stores its index within the plane (in_h * in_w); average pooling divides by the window
// clipped to the padded input (count_include_pad) or to the input itself. A window that lies past
// the padded input (ceil_mode) is accepted as long as it starts inside the input.
//   NCHW: each (batch, channel) plane is independent; OpenMP over planes.
//   NHWC: OpenMP over (batch, output row); each output position walks its window once and
//   vectorizes across blocks of kChannelBlock channels (contiguous in memory).
// The window math (bounds, divisor, first-max rule) is shared/pool_math.h, which the CUDA backend
// (native/cuda/pool.cu) runs too. The backward passes scatter per (batch, channel block), so no
// two threads touch the same dx element (a gather over the windows containing each input, as the
// CUDA average-pool backward, adds in the same order but runs 4-5x slower here: a divisor per
// (input, window) pair, no vector loop); low-precision dtypes accumulate in a float scratch and
// round once.
#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include "cpu/context.h"
#include "shared/pool_math.h"

namespace layerwise::cpu {

using shared::AvgWindow;
using shared::avg_window;
using shared::max_take;
using shared::max_window;

namespace {

constexpr int64_t kParallelElements = 16384;  // below this, threads cost more than they save
constexpr int64_t kChannelBlock = 64;

// Window checks shared by max and average pooling (PyTorch: pad at most half the kernel, and the
// last window starts inside the input or its left padding).
Status check_window(const char* op, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
                    int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w,
                    int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w) {
  auto sizes = {std::pair<const char*, int64_t>{"batch", batch}, {"channels", channels}, {"in_h", in_h},
                {"in_w", in_w}, {"out_h", out_h}, {"out_w", out_w}, {"kernel_h", kernel_h},
                {"kernel_w", kernel_w}, {"stride_h", stride_h}, {"stride_w", stride_w},
                {"pad_h", pad_h}, {"pad_w", pad_w}};
  LW_RETURN_IF_ERROR(check_sizes(op, sizes));
  if (kernel_h < 1 || kernel_w < 1 || stride_h < 1 || stride_w < 1)
    return Status::Invalid(op, "kernel and stride must be positive (" + describe(sizes) + ")");
  if (2 * pad_h > kernel_h || 2 * pad_w > kernel_w)
    return Status::Invalid(op, "padding must be at most half the kernel size (" + describe(sizes) + ")");
  if ((out_h > 0 && (out_h - 1) * stride_h - pad_h >= in_h) ||
      (out_w > 0 && (out_w - 1) * stride_w - pad_w >= in_w))
    return Status::Invalid(op, "the last window starts past the input (" + describe(sizes) + ")");
  return Status::Ok();
}

// Float accumulator for a backward's dx: dx itself for float32, else a scratch rounded by finish().
template <typename T>
struct GradAccumulator {
  std::vector<float> scratch;
  float* data = nullptr;
  bool init(T* dx, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
      data = dx;
    } else {
      try {
        scratch.assign(static_cast<size_t>(n), 0.0f);
      } catch (const std::bad_alloc&) {
        return false;
      }
      data = scratch.data();
    }
    return true;
  }
  void finish(T* dx, int64_t n) {
    if constexpr (!std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
      for (int64_t i = 0; i < n; i++) dx[i] = from_f32<T>(data[i]);
    }
  }
};

Status no_memory(const char* op, int64_t n) {
  return Status::Error(StatusCode::kOutOfMemory, op, "no memory for a float gradient of " + std::to_string(n) + " elements");
}

struct Geometry {
  int64_t batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

template <typename T>
void maxpool_forward_impl(T* y, int32_t* indices, const T* x, const Geometry& g, bool channels_last) {
  const int64_t C = g.channels, in_hw = g.in_h * g.in_w, out_hw = g.out_h * g.out_w;
  const int64_t work = g.batch * C * out_hw * g.kernel_h * g.kernel_w;
  if (!channels_last) {
#pragma omp parallel for if (work > kParallelElements)
    for (int64_t p = 0; p < g.batch * C; p++) {
      const T* xp = x + p * in_hw;
      T* yp = y + p * out_hw;
      int32_t* ip = indices + p * out_hw;
      for (int64_t oh = 0; oh < g.out_h; oh++) {
        int64_t h0, h1;
        max_window(h0, h1, oh, g.stride_h, g.pad_h, g.kernel_h, g.in_h);
        for (int64_t ow = 0; ow < g.out_w; ow++) {
          int64_t w0, w1;
          max_window(w0, w1, ow, g.stride_w, g.pad_w, g.kernel_w, g.in_w);
          int64_t best_index = h0 * g.in_w + w0;
          float best = -std::numeric_limits<float>::infinity();
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++) {
              const float v = to_f32(xp[ih * g.in_w + iw]);
              if (max_take(v, best)) {
                best = v;
                best_index = ih * g.in_w + iw;
              }
            }
          yp[oh * g.out_w + ow] = from_f32<T>(best);
          ip[oh * g.out_w + ow] = static_cast<int32_t>(best_index);
        }
      }
    }
    return;
  }
#pragma omp parallel for collapse(2) if (work > kParallelElements)
  for (int64_t b = 0; b < g.batch; b++)
    for (int64_t oh = 0; oh < g.out_h; oh++) {
      int64_t h0, h1;
      max_window(h0, h1, oh, g.stride_h, g.pad_h, g.kernel_h, g.in_h);
      const T* xb = x + b * in_hw * C;
      for (int64_t ow = 0; ow < g.out_w; ow++) {
        int64_t w0, w1;
        max_window(w0, w1, ow, g.stride_w, g.pad_w, g.kernel_w, g.in_w);
        const int64_t o = (b * out_hw + oh * g.out_w + ow) * C;
        for (int64_t c0 = 0; c0 < C; c0 += kChannelBlock) {
          const int64_t len = std::min(kChannelBlock, C - c0);
          float best[kChannelBlock];
          int32_t idx[kChannelBlock];
          for (int64_t j = 0; j < len; j++) {
            best[j] = -std::numeric_limits<float>::infinity();
            idx[j] = static_cast<int32_t>(h0 * g.in_w + w0);
          }
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++) {
              const int32_t at = static_cast<int32_t>(ih * g.in_w + iw);
              const T* xr = xb + at * C + c0;
#pragma omp simd
              for (int64_t j = 0; j < len; j++) {
                const float v = to_f32(xr[j]);
                const bool take = max_take(v, best[j]);  // a NaN wins
                best[j] = take ? v : best[j];
                idx[j] = take ? at : idx[j];
              }
            }
          for (int64_t j = 0; j < len; j++) {
            y[o + c0 + j] = from_f32<T>(best[j]);
            indices[o + c0 + j] = idx[j];
          }
        }
      }
    }
}

template <typename T>
void avgpool_forward_impl(T* y, const T* x, const Geometry& g, bool count_include_pad, bool channels_last) {
  const int64_t C = g.channels, in_hw = g.in_h * g.in_w, out_hw = g.out_h * g.out_w;
  const int64_t work = g.batch * C * out_hw * g.kernel_h * g.kernel_w;
  if (!channels_last) {
#pragma omp parallel for if (work > kParallelElements)
    for (int64_t p = 0; p < g.batch * C; p++) {
      const T* xp = x + p * in_hw;
      T* yp = y + p * out_hw;
      for (int64_t oh = 0; oh < g.out_h; oh++)
        for (int64_t ow = 0; ow < g.out_w; ow++) {
          AvgWindow win;
          float sum = 0.0f;
          if (avg_window(win, oh, ow, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_h, g.pad_w,
                         count_include_pad)) {
            for (int64_t ih = win.h0; ih < win.h1; ih++)
              for (int64_t iw = win.w0; iw < win.w1; iw++) sum += to_f32(xp[ih * g.in_w + iw]);
            sum /= win.divisor;
          }
          yp[oh * g.out_w + ow] = from_f32<T>(sum);
        }
    }
    return;
  }
#pragma omp parallel for collapse(2) if (work > kParallelElements)
  for (int64_t b = 0; b < g.batch; b++)
    for (int64_t oh = 0; oh < g.out_h; oh++) {
      const T* xb = x + b * in_hw * C;
      for (int64_t ow = 0; ow < g.out_w; ow++) {
        T* yr = y + (b * out_hw + oh * g.out_w + ow) * C;
        AvgWindow win;
        if (!avg_window(win, oh, ow, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_h, g.pad_w,
                        count_include_pad)) {
          for (int64_t j = 0; j < C; j++) yr[j] = from_f32<T>(0.0f);
          continue;
        }
        for (int64_t c0 = 0; c0 < C; c0 += kChannelBlock) {
          const int64_t len = std::min(kChannelBlock, C - c0);
          float acc[kChannelBlock];
          for (int64_t j = 0; j < len; j++) acc[j] = 0.0f;
          for (int64_t ih = win.h0; ih < win.h1; ih++)
            for (int64_t iw = win.w0; iw < win.w1; iw++) {
              const T* xr = xb + (ih * g.in_w + iw) * C + c0;
#pragma omp simd
              for (int64_t j = 0; j < len; j++) acc[j] += to_f32(xr[j]);
            }
#pragma omp simd
          for (int64_t j = 0; j < len; j++) yr[c0 + j] = from_f32<T>(acc[j] / win.divisor);
        }
      }
    }
}

// dx (float, zeroed) += the window gradients of dy; NCHW per plane, NHWC per (batch, channel block).
template <typename T>
void avgpool_backward_impl(float* dx, const T* dy, const Geometry& g, bool count_include_pad, bool channels_last) {
  const int64_t C = g.channels, in_hw = g.in_h * g.in_w, out_hw = g.out_h * g.out_w;
  const int64_t work = g.batch * C * out_hw * g.kernel_h * g.kernel_w;
  const int64_t cblocks = channels_last ? (C + kChannelBlock - 1) / kChannelBlock : C;
  const int64_t cstep = channels_last ? kChannelBlock : 1;
#pragma omp parallel for collapse(2) if (work > kParallelElements)
  for (int64_t b = 0; b < g.batch; b++)
    for (int64_t cb = 0; cb < cblocks; cb++) {
      const int64_t c0 = cb * cstep;
      const int64_t len = std::min(cstep, C - c0);
      for (int64_t oh = 0; oh < g.out_h; oh++)
        for (int64_t ow = 0; ow < g.out_w; ow++) {
          AvgWindow win;
          if (!avg_window(win, oh, ow, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_h, g.pad_w,
                          count_include_pad))
            continue;
          const int64_t o = oh * g.out_w + ow;
          if (!channels_last) {
            const float gv = to_f32(dy[(b * C + c0) * out_hw + o]) / win.divisor;
            float* dxp = dx + (b * C + c0) * in_hw;
            for (int64_t ih = win.h0; ih < win.h1; ih++)
              for (int64_t iw = win.w0; iw < win.w1; iw++) dxp[ih * g.in_w + iw] += gv;
            continue;
          }
          float gv[kChannelBlock];
          const T* dyr = dy + (b * out_hw + o) * C + c0;
          for (int64_t j = 0; j < len; j++) gv[j] = to_f32(dyr[j]) / win.divisor;
          for (int64_t ih = win.h0; ih < win.h1; ih++)
            for (int64_t iw = win.w0; iw < win.w1; iw++) {
              float* dxr = dx + (b * in_hw + ih * g.in_w + iw) * C + c0;
#pragma omp simd
              for (int64_t j = 0; j < len; j++) dxr[j] += gv[j];
            }
        }
    }
}

}  // namespace

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status maxpool2d_forward(Context& ctx, void* y, int32_t* indices, const void* x, DType dtype, int64_t batch,
                         int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                         int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                         int64_t pad_w, bool channels_last) {
  const char* op = "maxpool2d_forward";
  LW_RETURN_IF_ERROR(check_window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w,
                                  stride_h, stride_w, pad_h, pad_w));
  if (in_h * in_w > std::numeric_limits<int32_t>::max())
    return Status::Invalid(op, "in_h * in_w does not fit the int32 indices (" +
                                   describe({{"in_h", in_h}, {"in_w", in_w}}) + ")");
  const Geometry g{batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w};
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    maxpool_forward_impl(LW_TYPED(y), indices, LW_CTYPED(x), g, channels_last);
    return Status::Ok();
  });
}

Status maxpool2d_backward(Context& ctx, void* dx, const void* dy, const int32_t* indices, DType dtype,
                          int64_t batch, int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h,
                          int64_t out_w, bool channels_last) {
  const char* op = "maxpool2d_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"in_h", in_h},
                                      {"in_w", in_w}, {"out_h", out_h}, {"out_w", out_w}}));
  const int64_t C = channels, plane_in = in_h * in_w, plane_out = out_h * out_w;
  const int64_t total_in = batch * C * plane_in;
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* dyt = LW_CTYPED(dy);
    GradAccumulator<T> acc;
    if (!acc.init(LW_TYPED(dx), total_in)) return no_memory(op, total_in);
    float* d = acc.data;
    int64_t bad = -1;  // a (batch, channel) holding an index outside [0, in_h * in_w)
    const int64_t cblocks = channels_last ? (C + kChannelBlock - 1) / kChannelBlock : C;
    const int64_t cstep = channels_last ? kChannelBlock : 1;
#pragma omp parallel for collapse(2) if (batch * C * (plane_in + plane_out) > kParallelElements)
    for (int64_t b = 0; b < batch; b++)
      for (int64_t cb = 0; cb < cblocks; cb++) {
        const int64_t c0 = cb * cstep;
        const int64_t len = std::min(cstep, C - c0);
        if (!channels_last) {
          const int64_t p = b * C + c0;
          float* dxp = d + p * plane_in;
          for (int64_t i = 0; i < plane_in; i++) dxp[i] = 0.0f;
          for (int64_t o = 0; o < plane_out; o++) {
            const int64_t at = indices[p * plane_out + o];
            if (at < 0 || at >= plane_in) {
#pragma omp atomic write
              bad = p;
              continue;
            }
            dxp[at] += to_f32(dyt[p * plane_out + o]);
          }
          continue;
        }
        for (int64_t i = 0; i < plane_in; i++)
          for (int64_t j = 0; j < len; j++) d[(b * plane_in + i) * C + c0 + j] = 0.0f;
        for (int64_t o = 0; o < plane_out; o++) {
          const int64_t row = (b * plane_out + o) * C + c0;
          for (int64_t j = 0; j < len; j++) {
            const int64_t at = indices[row + j];
            if (at < 0 || at >= plane_in) {
#pragma omp atomic write
              bad = b * C + c0 + j;
              continue;
            }
            d[(b * plane_in + at) * C + c0 + j] += to_f32(dyt[row + j]);
          }
        }
      }
    if (bad >= 0)
      return Status::Invalid(op, "indices of plane " + std::to_string(bad) + " fall outside in_h * in_w (" +
                                     describe({{"in_h", in_h}, {"in_w", in_w}}) + ")");
    acc.finish(LW_TYPED(dx), total_in);
    return Status::Ok();
  });
}

Status avgpool2d_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t channels,
                         int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel_h,
                         int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                         bool count_include_pad, bool channels_last) {
  const char* op = "avgpool2d_forward";
  LW_RETURN_IF_ERROR(check_window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w,
                                  stride_h, stride_w, pad_h, pad_w));
  const Geometry g{batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w};
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    avgpool_forward_impl(LW_TYPED(y), LW_CTYPED(x), g, count_include_pad, channels_last);
    return Status::Ok();
  });
}

Status avgpool2d_backward(Context& ctx, void* dx, const void* dy, DType dtype, int64_t batch, int64_t channels,
                          int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel_h,
                          int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                          bool count_include_pad, bool channels_last) {
  const char* op = "avgpool2d_backward";
  LW_RETURN_IF_ERROR(check_window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w,
                                  stride_h, stride_w, pad_h, pad_w));
  const Geometry g{batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w};
  const int64_t total_in = batch * channels * in_h * in_w;
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    GradAccumulator<T> acc;
    if (!acc.init(LW_TYPED(dx), total_in)) return no_memory(op, total_in);
#pragma omp parallel for simd schedule(static) if (total_in > kParallelElements)
    for (int64_t i = 0; i < total_in; i++) acc.data[i] = 0.0f;
    avgpool_backward_impl(acc.data, LW_CTYPED(dy), g, count_include_pad, channels_last);
    acc.finish(LW_TYPED(dx), total_in);
    return Status::Ok();
  });
}

Status global_avgpool_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t channels,
                              int64_t hw, bool channels_last) {
  const char* op = "global_avgpool_forward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"hw", hw}}));
  if (hw == 0 && batch * channels > 0)
    return Status::Invalid(op, "the mean over zero positions is undefined (" +
                                   describe({{"batch", batch}, {"channels", channels}, {"hw", hw}}) + ")");
  const int64_t C = channels;
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* xt = LW_CTYPED(x);
    T* yt = LW_TYPED(y);
    const double inv = 1.0 / static_cast<double>(hw);
    if (!channels_last) {
#pragma omp parallel for if (batch * C * hw > kParallelElements)
      for (int64_t p = 0; p < batch * C; p++) {
        const T* xp = xt + p * hw;  // (hw)
        double sum = 0.0;           // double: hw can be large (global pooling of a big map)
#pragma omp simd reduction(+ : sum)
        for (int64_t i = 0; i < hw; i++) sum += static_cast<double>(to_f32(xp[i]));
        yt[p] = from_f32<T>(static_cast<float>(sum * inv));
      }
      return Status::Ok();
    }
    const int64_t cblocks = (C + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for collapse(2) if (batch * C * hw > kParallelElements)
    for (int64_t b = 0; b < batch; b++)
      for (int64_t cb = 0; cb < cblocks; cb++) {
        const int64_t c0 = cb * kChannelBlock;
        const int64_t len = std::min(kChannelBlock, C - c0);
        double acc[kChannelBlock];
        for (int64_t j = 0; j < len; j++) acc[j] = 0.0;
        for (int64_t i = 0; i < hw; i++) {
          const T* xr = xt + (b * hw + i) * C + c0;
#pragma omp simd
          for (int64_t j = 0; j < len; j++) acc[j] += static_cast<double>(to_f32(xr[j]));
        }
        for (int64_t j = 0; j < len; j++) yt[b * C + c0 + j] = from_f32<T>(static_cast<float>(acc[j] * inv));
      }
    return Status::Ok();
  });
}

Status global_avgpool_backward(Context& ctx, void* dx, const void* dy, DType dtype, int64_t batch,
                               int64_t channels, int64_t hw, bool channels_last) {
  const char* op = "global_avgpool_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"hw", hw}}));
  const int64_t C = channels;
  const float inv = hw > 0 ? 1.0f / static_cast<float>(hw) : 0.0f;
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* dyt = LW_CTYPED(dy);
    T* dxt = LW_TYPED(dx);
    if (!channels_last) {
#pragma omp parallel for if (batch * C * hw > kParallelElements)
      for (int64_t p = 0; p < batch * C; p++) {
        const T g = from_f32<T>(to_f32(dyt[p]) * inv);
        T* dxp = dxt + p * hw;  // (hw)
        for (int64_t i = 0; i < hw; i++) dxp[i] = g;
      }
      return Status::Ok();
    }
#pragma omp parallel for collapse(2) if (batch * C * hw > kParallelElements)
    for (int64_t b = 0; b < batch; b++)
      for (int64_t i = 0; i < hw; i++) {
        const T* g = dyt + b * C;
        T* dxr = dxt + (b * hw + i) * C;
#pragma omp simd
        for (int64_t j = 0; j < C; j++) dxr[j] = from_f32<T>(to_f32(g[j]) * inv);
      }
    return Status::Ok();
  });
}

#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cpu
