// kernels/norm.h: the norm kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- norm.cc ---- (x, y, dy, dx in the kernel's dtype; statistics, gamma, beta and their
// gradients float32; statistics accumulate in double. With channels_last, x/y/dx/dy lie NHWC:
// (n, hw, c) in memory; otherwise (n, c, hw).)
// Training-mode BatchNorm2d: batch statistics; running_mean/var are updated in place with
// PyTorch's rule (unbiased variance, running = (1 - momentum) * running + momentum * batch).
Status batchnorm2d_forward_train(Context& ctx,
                                 void* y,               // (n, c, hw) [dtype]
                                 float* save_mean,      // (c)
                                 float* save_invstd,    // (c)
                                 float* running_mean,   // (c)
                                 float* running_var,    // (c)
                                 const void* x,         // (n, c, hw) [dtype]
                                 const float* gamma,    // (c)
                                 const float* beta,     // (c)
                                 DType dtype, int64_t n, int64_t c, int64_t hw, bool channels_last,
                                 float momentum, float eps);
Status batchnorm2d_forward_eval(Context& ctx,
                                void* y,                    // (n, c, hw) [dtype]
                                const void* x,              // (n, c, hw) [dtype]
                                const float* gamma,         // (c)
                                const float* beta,          // (c)
                                const float* running_mean,  // (c)
                                const float* running_var,   // (c)
                                DType dtype, int64_t n, int64_t c, int64_t hw, bool channels_last,
                                float eps);
// dx may alias dy.
Status batchnorm2d_backward_train(Context& ctx,
                                  void* dx,                  // (n, c, hw) [dtype]
                                  float* dgamma,             // (c)
                                  float* dbeta,              // (c)
                                  const void* dy,            // (n, c, hw) [dtype]
                                  const void* x,             // (n, c, hw) [dtype]
                                  const float* gamma,        // (c)
                                  const float* save_mean,    // (c)
                                  const float* save_invstd,  // (c)
                                  DType dtype, int64_t n, int64_t c, int64_t hw, bool channels_last);
Status batchnorm2d_backward_eval(Context& ctx,
                                 void* dx,                   // (n, c, hw) [dtype]
                                 float* dgamma,              // (c)
                                 float* dbeta,               // (c)
                                 const void* dy,             // (n, c, hw) [dtype]
                                 const void* x,              // (n, c, hw) [dtype]
                                 const float* gamma,         // (c)
                                 const float* running_mean,  // (c)
                                 const float* running_var,   // (c)
                                 DType dtype, int64_t n, int64_t c, int64_t hw, bool channels_last,
                                 float eps);
// LayerNorm over the last dimension (cols), biased variance, as torch.nn.LayerNorm.
Status layernorm_forward(Context& ctx,
                         void* y,             // (rows, cols) [dtype]
                         float* save_mean,    // (rows)
                         float* save_rstd,    // (rows)
                         const void* x,       // (rows, cols) [dtype]
                         const float* gamma,  // (cols)
                         const float* beta,   // (cols)
                         DType dtype, int64_t rows, int64_t cols, float eps);
Status layernorm_backward(Context& ctx,
                          void* dx,                // (rows, cols) [dtype]
                          float* dgamma,           // (cols)
                          float* dbeta,            // (cols)
                          const void* dy,          // (rows, cols) [dtype]
                          const void* x,           // (rows, cols) [dtype]
                          const float* gamma,      // (cols)
                          const float* save_mean,  // (rows)
                          const float* save_rstd,  // (rows)
                          DType dtype, int64_t rows, int64_t cols);

// timm LayerNorm2d: LayerNorm (biased variance) over the c values x[i, :, p] of each of the n * hw
// positions, statistics at i * hw + p; dx may alias dy. (NHWC: layernorm_* with rows n * hw, cols c.)
Status layernorm_channels_forward(Context& ctx,
                                  void* y,             // (n, c, hw) [dtype]
                                  float* save_mean,    // (n * hw)
                                  float* save_rstd,    // (n * hw)
                                  const void* x,       // (n, c, hw) [dtype]
                                  const float* gamma,  // (c)
                                  const float* beta,   // (c)
                                  DType dtype, int64_t n, int64_t c, int64_t hw, float eps);
Status layernorm_channels_backward(Context& ctx,
                                   void* dx,                // (n, c, hw) [dtype]
                                   float* dgamma,           // (c)
                                   float* dbeta,            // (c)
                                   const void* dy,          // (n, c, hw) [dtype]
                                   const void* x,           // (n, c, hw) [dtype]
                                   const float* gamma,      // (c)
                                   const float* save_mean,  // (n * hw)
                                   const float* save_rstd,  // (n * hw)
                                   DType dtype, int64_t n, int64_t c, int64_t hw);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
