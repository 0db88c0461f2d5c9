// Window math of 2-D pooling, shared by the CPU and CUDA backends (LW_HD: __host__ __device__ under
// nvcc): the window bounds of max and average pooling, the divisor of average pooling, the first-max
// rule of max pooling and the range of output windows that contain an input position (the gather
// form of the average-pool backward). Semantics of PyTorch's kernels
// (aten/src/ATen/native/cpu/MaxPoolKernel.cpp, AvgPoolKernel.cpp, cuda/AveragePool2d.cu).
#pragma once
#include <cstdint>

#include "layerwise/dtype.h"

namespace layerwise::shared {

// Rows (or columns) [a0, a1) of the max-pool window of output o, clipped to the input [0, in)
// (padding is -inf, so it never wins).
LW_HD void max_window(int64_t& a0, int64_t& a1, int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t in) {
  const int64_t start = o * stride - pad;
  const int64_t end = start + kernel;
  a1 = end < in ? end : in;
  a0 = start > 0 ? start : 0;
}

// Max pooling's rule: v replaces the running maximum when greater, or when it is NaN (a NaN wins
// and stays); on ties the first (row-major) position keeps the maximum.
LW_HD bool max_take(float v, float best) { return v > best || v != v; }

// The window of average-pool output (oh, ow) clipped to the input, and PyTorch's divisor: the
// window clipped to the padded input (count_include_pad) or to the input itself.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  float divisor;
};

// Fills win; false for a window that holds no input position (then the output is 0).
LW_HD bool avg_window(AvgWindow& win, int64_t oh, int64_t ow, int64_t in_h, int64_t in_w, int64_t kernel_h,
                      int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                      bool count_include_pad) {
  const int64_t h0 = oh * stride_h - pad_h, w0 = ow * stride_w - pad_w;
  const int64_t h1 = h0 + kernel_h < in_h + pad_h ? h0 + kernel_h : in_h + pad_h;
  const int64_t w1 = w0 + kernel_w < in_w + pad_w ? w0 + kernel_w : in_w + pad_w;
  const int64_t padded_count = (h1 - h0) * (w1 - w0);
  win.h0 = h0 > 0 ? h0 : 0;
  win.w0 = w0 > 0 ? w0 : 0;
  win.h1 = h1 < in_h ? h1 : in_h;
  win.w1 = w1 < in_w ? w1 : in_w;
  if (win.h0 >= win.h1 || win.w0 >= win.w1) return false;
  const int64_t count = count_include_pad ? padded_count : (win.h1 - win.h0) * (win.w1 - win.w0);
  win.divisor = static_cast<float>(count);
  return true;
}

// Outputs [o0, o1) along one axis whose windows [o*stride - pad, o*stride - pad + kernel) contain
// input position i (0 <= i < in), as PyTorch's avg_pool2d backward (phstart / phend). Empty when
// o0 >= o1.
LW_HD void windows_containing(int64_t& o0, int64_t& o1, int64_t i, int64_t out, int64_t kernel, int64_t stride,
                              int64_t pad) {
  const int64_t ip = i + pad;
  o0 = ip < kernel ? 0 : (ip - kernel) / stride + 1;
  const int64_t end = ip / stride + 1;
  o1 = end < out ? end : out;
}

}  // namespace layerwise::shared
