// kernels/elementwise.h: the elementwise kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- elementwise.cc ---- (y may alias an input in every kernel of this family; every tensor
// argument has the kernel's dtype; arithmetic in float. Channel-broadcast kernels take the layout
// as (outer, channels, inner): NCHW is (N, C, H*W), channels-last NHWC is (N*H*W, C, 1).)
// y = alpha * a + beta * b
Status add_forward(Context& ctx,
                   void* y,        // (n) [dtype]
                   const void* a,  // (n) [dtype]
                   const void* b,  // (n) [dtype]
                   DType dtype, float alpha, float beta, int64_t n);
// y = a * b
Status mul_forward(Context& ctx,
                   void* y,        // (n) [dtype]
                   const void* a,  // (n) [dtype]
                   const void* b,  // (n) [dtype]
                   DType dtype, int64_t n);
// y = alpha * x
Status scale_forward(Context& ctx,
                     void* y,        // (n) [dtype]
                     const void* x,  // (n) [dtype]
                     DType dtype, float alpha, int64_t n);
// y = alpha * s[0] for every element: the backward of a sum or mean to a scalar (s is float32).
Status scalar_broadcast_forward(Context& ctx,
                                void* y,         // (n) [dtype]
                                const float* s,  // (1)
                                DType dtype, float alpha, int64_t n);
// y[o, c, i] = x[o, c, i] + bias[c]: conv/linear bias, position embeddings, any per-channel add.
Status bias_add_forward(Context& ctx,
                        void* y,           // (outer, channels, inner) [dtype]
                        const void* x,     // (outer, channels, inner) [dtype]
                        const void* bias,  // (channels) [dtype]
                        DType dtype, int64_t outer, int64_t channels, int64_t inner);
// dbias[c] = sum over o, i of dy[o, c, i] (accumulated in double)
Status bias_add_backward(Context& ctx,
                         void* dbias,     // (channels) [dtype]
                         const void* dy,  // (outer, channels, inner) [dtype]
                         DType dtype, int64_t outer, int64_t channels, int64_t inner);
// y[o, c, i] = x[o, c, i] * scale[c]: LayerScale, per-channel gains.
Status channel_mul_forward(Context& ctx,
                           void* y,            // (outer, channels, inner) [dtype]
                           const void* x,      // (outer, channels, inner) [dtype]
                           const void* scale,  // (channels) [dtype]
                           DType dtype, int64_t outer, int64_t channels, int64_t inner);
// dscale[c] = sum over o, i of dy[o, c, i] * x[o, c, i] (accumulated in double)
Status channel_mul_backward_scale(Context& ctx,
                                  void* dscale,    // (channels) [dtype]
                                  const void* dy,  // (outer, channels, inner) [dtype]
                                  const void* x,   // (outer, channels, inner) [dtype]
                                  DType dtype, int64_t outer, int64_t channels, int64_t inner);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
