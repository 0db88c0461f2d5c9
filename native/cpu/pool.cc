// Pooling on the CPU: max pooling (with argmax indices for the backward), average pooling and
// global average pooling, forward and backward, NCHW. Each (batch, channel) plane is independent,
// so every kernel parallelizes over planes with OpenMP.
// Semantics follow PyTorch's CPU kernels (aten/src/ATen/native/cpu/MaxPoolKernel.cpp and
// AvgPoolKernel.cpp): max pooling treats padding as -inf, takes the first maximum (a NaN wins),
// and stores its index within the plane (in_h * in_w); average pooling divides by the window
// clipped to the padded input (count_include_pad) or to the input itself. A window that lies past
// the padded input (ceil_mode) is accepted as long as it starts inside the input.
#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/context.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kParallelElements = 16384;  // below this, threads cost more than they save

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

}  // namespace

Status maxpool2d_forward(Context& ctx, float* y, int32_t* indices, const float* x, int64_t batch,
                         int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                         int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                         int64_t pad_h, int64_t pad_w) {
  const char* op = "maxpool2d_forward";
  LW_RETURN_IF_ERROR(check_window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w,
                                  stride_h, stride_w, pad_h, pad_w));
  if (in_h * in_w > std::numeric_limits<int32_t>::max())
    return Status::Invalid(op, "in_h * in_w does not fit the int32 indices (" +
                                   describe({{"in_h", in_h}, {"in_w", in_w}}) + ")");
  const int64_t planes = batch * channels;
#pragma omp parallel for if (planes * out_h * out_w * kernel_h * kernel_w > kParallelElements)
  for (int64_t p = 0; p < planes; p++) {
    const float* xp = x + p * in_h * in_w;  // (in_h, in_w)
    float* yp = y + p * out_h * out_w;      // (out_h, out_w)
    int32_t* ip = indices + p * out_h * out_w;
    for (int64_t oh = 0; oh < out_h; oh++) {
      int64_t h0 = oh * stride_h - pad_h;
      int64_t h1 = std::min(h0 + kernel_h, in_h);
      h0 = std::max<int64_t>(h0, 0);
      for (int64_t ow = 0; ow < out_w; ow++) {
        int64_t w0 = ow * stride_w - pad_w;
        int64_t w1 = std::min(w0 + kernel_w, in_w);
        w0 = std::max<int64_t>(w0, 0);
        int64_t best_index = h0 * in_w + w0;
        float best = -std::numeric_limits<float>::infinity();
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++) {
            float v = xp[ih * in_w + iw];
            if (v > best || std::isnan(v)) {
              best = v;
              best_index = ih * in_w + iw;
            }
          }
        yp[oh * out_w + ow] = best;
        ip[oh * out_w + ow] = static_cast<int32_t>(best_index);
      }
    }
  }
  return Status::Ok();
}

Status maxpool2d_backward(Context& ctx, float* dx, const float* dy, const int32_t* indices,
                          int64_t batch, int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h,
                          int64_t out_w) {
  const char* op = "maxpool2d_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"in_h", in_h},
                                      {"in_w", in_w}, {"out_h", out_h}, {"out_w", out_w}}));
  const int64_t planes = batch * channels;
  const int64_t plane_in = in_h * in_w, plane_out = out_h * out_w;
  int64_t bad_plane = -1;  // a plane holding an index outside [0, in_h * in_w)
#pragma omp parallel for if (planes * (plane_in + plane_out) > kParallelElements)
  for (int64_t p = 0; p < planes; p++) {
    float* dxp = dx + p * plane_in;  // (in_h, in_w)
    const float* dyp = dy + p * plane_out;
    const int32_t* ip = indices + p * plane_out;
    for (int64_t i = 0; i < plane_in; i++) dxp[i] = 0.0f;
    for (int64_t o = 0; o < plane_out; o++) {
      int64_t at = ip[o];
      if (at < 0 || at >= plane_in) {
#pragma omp atomic write
        bad_plane = p;
        continue;
      }
      dxp[at] += dyp[o];
    }
  }
  if (bad_plane >= 0)
    return Status::Invalid(op, "indices of plane " + std::to_string(bad_plane) + " fall outside in_h * in_w (" +
                                   describe({{"in_h", in_h}, {"in_w", in_w}}) + ")");
  return Status::Ok();
}

namespace {

// PyTorch's window bounds and divisor for output (oh, ow); returns false for an empty window.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  float divisor;  // PyTorch divides the window sum by this count
};

inline bool avg_window(AvgWindow& win, int64_t oh, int64_t ow, int64_t in_h, int64_t in_w,
                       int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                       int64_t pad_h, int64_t pad_w, bool count_include_pad) {
  int64_t h0 = oh * stride_h - pad_h, w0 = ow * stride_w - pad_w;
  int64_t h1 = std::min(h0 + kernel_h, in_h + pad_h), w1 = std::min(w0 + kernel_w, in_w + pad_w);
  int64_t padded_count = (h1 - h0) * (w1 - w0);
  win.h0 = std::max<int64_t>(h0, 0);
  win.w0 = std::max<int64_t>(w0, 0);
  win.h1 = std::min(h1, in_h);
  win.w1 = std::min(w1, in_w);
  if (win.h0 >= win.h1 || win.w0 >= win.w1) return false;
  int64_t count = count_include_pad ? padded_count : (win.h1 - win.h0) * (win.w1 - win.w0);
  win.divisor = static_cast<float>(count);
  return true;
}

}  // namespace

Status avgpool2d_forward(Context& ctx, float* y, const float* x, int64_t batch, int64_t channels,
                         int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel_h,
                         int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                         int64_t pad_w, bool count_include_pad) {
  const char* op = "avgpool2d_forward";
  LW_RETURN_IF_ERROR(check_window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w,
                                  stride_h, stride_w, pad_h, pad_w));
  const int64_t planes = batch * channels;
#pragma omp parallel for if (planes * out_h * out_w * kernel_h * kernel_w > kParallelElements)
  for (int64_t p = 0; p < planes; p++) {
    const float* xp = x + p * in_h * in_w;  // (in_h, in_w)
    float* yp = y + p * out_h * out_w;      // (out_h, out_w)
    for (int64_t oh = 0; oh < out_h; oh++)
      for (int64_t ow = 0; ow < out_w; ow++) {
        AvgWindow win;
        float sum = 0.0f;
        if (avg_window(win, oh, ow, in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                       count_include_pad)) {
          for (int64_t ih = win.h0; ih < win.h1; ih++)
            for (int64_t iw = win.w0; iw < win.w1; iw++) sum += xp[ih * in_w + iw];
          sum /= win.divisor;
        }
        yp[oh * out_w + ow] = sum;
      }
  }
  return Status::Ok();
}

Status avgpool2d_backward(Context& ctx, float* dx, const float* dy, int64_t batch, int64_t channels,
                          int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel_h,
                          int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                          int64_t pad_w, bool count_include_pad) {
  const char* op = "avgpool2d_backward";
  LW_RETURN_IF_ERROR(check_window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w,
                                  stride_h, stride_w, pad_h, pad_w));
  const int64_t planes = batch * channels;
#pragma omp parallel for if (planes * out_h * out_w * kernel_h * kernel_w > kParallelElements)
  for (int64_t p = 0; p < planes; p++) {
    float* dxp = dx + p * in_h * in_w;        // (in_h, in_w)
    const float* dyp = dy + p * out_h * out_w;  // (out_h, out_w)
    for (int64_t i = 0; i < in_h * in_w; i++) dxp[i] = 0.0f;
    for (int64_t oh = 0; oh < out_h; oh++)
      for (int64_t ow = 0; ow < out_w; ow++) {
        AvgWindow win;
        if (!avg_window(win, oh, ow, in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                        count_include_pad))
          continue;
        float g = dyp[oh * out_w + ow] / win.divisor;
        for (int64_t ih = win.h0; ih < win.h1; ih++)
          for (int64_t iw = win.w0; iw < win.w1; iw++) dxp[ih * in_w + iw] += g;
      }
  }
  return Status::Ok();
}

Status global_avgpool_forward(Context& ctx, float* y, const float* x, int64_t batch, int64_t channels,
                              int64_t hw) {
  const char* op = "global_avgpool_forward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"hw", hw}}));
  if (hw == 0 && batch * channels > 0)
    return Status::Invalid(op, "the mean over zero positions is undefined (" +
                                   describe({{"batch", batch}, {"channels", channels}, {"hw", hw}}) + ")");
  const int64_t planes = batch * channels;
#pragma omp parallel for if (planes * hw > kParallelElements)
  for (int64_t p = 0; p < planes; p++) {
    const float* xp = x + p * hw;  // (hw)
    double sum = 0.0;              // double: hw can be large (global pooling of a big map)
    for (int64_t i = 0; i < hw; i++) sum += xp[i];
    y[p] = static_cast<float>(sum / static_cast<double>(hw));
  }
  return Status::Ok();
}

Status global_avgpool_backward(Context& ctx, float* dx, const float* dy, int64_t batch,
                               int64_t channels, int64_t hw) {
  const char* op = "global_avgpool_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"hw", hw}}));
  const int64_t planes = batch * channels;
  const float inv = hw > 0 ? 1.0f / static_cast<float>(hw) : 0.0f;
#pragma omp parallel for if (planes * hw > kParallelElements)
  for (int64_t p = 0; p < planes; p++) {
    float g = dy[p] * inv;
    float* dxp = dx + p * hw;  // (hw)
    for (int64_t i = 0; i < hw; i++) dxp[i] = g;
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
