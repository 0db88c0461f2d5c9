// kernels/pool.h: the pool kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- pool.cc ---- (padding is implicit -inf for max, zeros for average; every tensor but the indices
// in the kernel's dtype, window sums in float. channels_last: x/y/dx/dy and indices NHWC, else NCHW.)
Status maxpool2d_forward(Context& ctx,
                         void* y,           // (batch, channels, out_h, out_w) [dtype]
                         int32_t* indices,  // (batch, channels, out_h, out_w)  argmax in in_h*in_w
                         const void* x,     // (batch, channels, in_h, in_w) [dtype]
                         DType dtype, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w,
                         int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                         bool channels_last);
Status maxpool2d_backward(Context& ctx,
                          void* dx,                // (batch, channels, in_h, in_w) [dtype]
                          const void* dy,          // (batch, channels, out_h, out_w) [dtype]
                          const int32_t* indices,  // (batch, channels, out_h, out_w)
                          DType dtype, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
                          int64_t out_h, int64_t out_w, bool channels_last);
Status avgpool2d_forward(Context& ctx,
                         void* y,        // (batch, channels, out_h, out_w) [dtype]
                         const void* x,  // (batch, channels, in_h, in_w) [dtype]
                         DType dtype, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w,
                         int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                         bool count_include_pad, bool channels_last);
Status avgpool2d_backward(Context& ctx,
                          void* dx,        // (batch, channels, in_h, in_w) [dtype]
                          const void* dy,  // (batch, channels, out_h, out_w) [dtype]
                          DType dtype, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
                          int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w,
                          int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                          bool count_include_pad, bool channels_last);
// AdaptiveAvgPool2d(1), sums in double: x (batch, channels, hw), NHWC (batch, hw, channels); y, dy (batch, channels).
Status global_avgpool_forward(Context& ctx,
                              void* y,        // (batch, channels) [dtype]
                              const void* x,  // (batch, channels, hw) [dtype]
                              DType dtype, int64_t batch, int64_t channels, int64_t hw,
                              bool channels_last);
Status global_avgpool_backward(Context& ctx,
                               void* dx,        // (batch, channels, hw) [dtype]
                               const void* dy,  // (batch, channels) [dtype]
                               DType dtype, int64_t batch, int64_t channels, int64_t hw,
                               bool channels_last);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
