// kernels/conv2d.h: the conv2d kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- conv2d.cc ---- (PyTorch Conv2d semantics: cross-correlation, zero padding, groups)
// x, y, w, dx, dy and dw share the dtype; sums are accumulated in float32. With channels_last,
// x / y / dx / dy are NHWC in memory (the shape comments give the logical NCHW sizes); the
// weight is always (out_channels, in_channels / groups, kernel_h, kernel_w), row-major.
Status conv2d_forward(Context& ctx,
                      void* y,        // (batch, out_channels, out_h, out_w) [dtype]
                      const void* x,  // (batch, in_channels, in_h, in_w) [dtype]
                      const void* w,  // (out_channels, in_channels / groups, kernel_h, kernel_w) [dtype]
                      DType dtype, int64_t batch, int64_t in_channels, int64_t in_h, int64_t in_w,
                      int64_t out_channels, int64_t kernel_h, int64_t kernel_w, int64_t out_h,
                      int64_t out_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                      int64_t pad_w, int64_t dilation_h, int64_t dilation_w, int64_t groups,
                      bool channels_last);
Status conv2d_backward_input(Context& ctx,
                             void* dx,        // (batch, in_channels, in_h, in_w) [dtype]
                             const void* dy,  // (batch, out_channels, out_h, out_w) [dtype]
                             const void* w,   // (out_channels, in_channels / groups, kernel_h, kernel_w) [dtype]
                             DType dtype, int64_t batch, int64_t in_channels, int64_t in_h,
                             int64_t in_w, int64_t out_channels, int64_t kernel_h,
                             int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t stride_h,
                             int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h,
                             int64_t dilation_w, int64_t groups, bool channels_last);
Status conv2d_backward_weight(Context& ctx,
                              void* dw,        // (out_channels, in_channels / groups, kernel_h, kernel_w) [dtype]
                              const void* dy,  // (batch, out_channels, out_h, out_w) [dtype]
                              const void* x,   // (batch, in_channels, in_h, in_w) [dtype]
                              DType dtype, int64_t batch, int64_t in_channels, int64_t in_h,
                              int64_t in_w, int64_t out_channels, int64_t kernel_h,
                              int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t stride_h,
                              int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h,
                              int64_t dilation_w, int64_t groups, bool channels_last);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
