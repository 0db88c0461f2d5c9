// kernels/activation.h: the activation kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- activation.cc ---- (every tensor argument has the kernel's dtype; arithmetic in float)
Status relu_forward(Context& ctx,
                    void* y,        // (n) [dtype]
                    const void* x,  // (n) [dtype]
                    DType dtype, int64_t n);
// dx = dy where y > 0, else 0 (reads the forward output, so it may run in place on y)
Status relu_backward(Context& ctx,
                     void* dx,        // (n) [dtype]
                     const void* dy,  // (n) [dtype]
                     const void* y,   // (n) [dtype]
                     DType dtype, int64_t n);
// GELU, erf form: x * 0.5 * (1 + erf(x / sqrt(2)))  (torch.nn.GELU(approximate='none'))
Status gelu_forward(Context& ctx,
                    void* y,        // (n) [dtype]
                    const void* x,  // (n) [dtype]
                    DType dtype, int64_t n);
Status gelu_backward(Context& ctx,
                     void* dx,        // (n) [dtype]
                     const void* dy,  // (n) [dtype]
                     const void* x,   // (n) [dtype]
                     DType dtype, int64_t n);
// Row-wise softmax over the last dimension (max, exp and sum in float).
Status softmax_forward(Context& ctx,
                       void* y,        // (rows, cols) [dtype]
                       const void* x,  // (rows, cols) [dtype]
                       DType dtype, int64_t rows, int64_t cols);
Status softmax_backward(Context& ctx,
                        void* dx,        // (rows, cols) [dtype]
                        const void* dy,  // (rows, cols) [dtype]
                        const void* y,   // (rows, cols) [dtype]
                        DType dtype, int64_t rows, int64_t cols);
// Inverted dropout: keep with probability 1 - p, scale kept values by 1 / (1 - p). The mask is a
// counter-based hash of (seed, offset + i), identical on every backend, dtype and thread count.
Status dropout_forward(Context& ctx,
                       void* y,         // (n) [dtype]
                       uint8_t* mask,   // (n)
                       const void* x,   // (n) [dtype]
                       DType dtype, int64_t n, float p, int64_t seed, int64_t offset);
Status dropout_backward(Context& ctx,
                        void* dx,             // (n) [dtype]
                        const void* dy,       // (n) [dtype]
                        const uint8_t* mask,  // (n)
                        DType dtype, int64_t n, float p);

// Drop path (timm DropPath, scale_by_keep): mask[i] = dropout_keep(seed, offset + i + 1, p), one draw
// per sample; y[i, :] = mask[i] ? x[i, :] / (1 - p) : 0 and dx likewise from dy (dx may alias dy).
Status drop_path_forward(Context& ctx,
                         void* y,        // (batch, inner) [dtype]
                         uint8_t* mask,  // (batch)
                         const void* x,  // (batch, inner) [dtype]
                         DType dtype, int64_t batch, int64_t inner, float p, int64_t seed, int64_t offset);
Status drop_path_backward(Context& ctx,
                          void* dx,             // (batch, inner) [dtype]
                          const void* dy,       // (batch, inner) [dtype]
                          const uint8_t* mask,  // (batch)
                          DType dtype, int64_t batch, int64_t inner, float p);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
