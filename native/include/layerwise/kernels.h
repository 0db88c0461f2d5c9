// kernels.h: THE contract between TypeScript and the native backends.
//
// Every kernel below is implemented by each backend under the same name, in the file of its family
// (native/cpu/<family>.cc, native/cuda/<family>.cu), inside namespace layerwise::<backend>.
// scripts/gen-contract.mjs parses this file and generates the N-API glue
// (native/binding/generated/), the kernel table each backend fills, and the TypeScript mirror
// (src/native/kernels.generated.ts); test/contract.test.ts fails when they disagree.
//
// Conventions (the generator relies on them):
//   * Outputs first, then inputs, then sizes and options.
//   * Device pointers carry a shape comment `// (d0, d1, ...)`: the binding checks, before the
//     call, that the buffer holds at least d0*d1*... elements of the pointer's type.
//   * `float* const*` / `const float* const*` are arrays of device buffers (multi-tensor kernels).
//   * Parameters named host_* are host arrays (JS arrays or typed arrays), not device memory.
//   * `void*` buffers are typed by a DType parameter named after the shape: `// (n) [dtype]`; the
//     binding checks their size in elements of that dtype. `float*` buffers are always float32
//     (statistics, master weights, gradients of parameters, losses). Kernels compute in float
//     whatever the storage type (layerwise/dtype.h) and return kNotImplemented for a dtype they
//     do not support.
//   * Tensors are dense and row-major in their memory format: contiguous (NCHW for images) or,
//     where a kernel takes `channels_last`, NHWC. Strides only where a kernel names them. No shape
//     inference: TypeScript resolves every size and passes plain integers.
//   * Outputs are overwritten, never accumulated into, unless a comment says otherwise.
//   * Every kernel returns a Status; none aborts, throws or exits.
#pragma once
#include <cstdint>
#include "layerwise/dtype.h"
#include "layerwise/status.h"

#ifndef LAYERWISE_BACKEND
#define LAYERWISE_BACKEND cpu
#endif

namespace layerwise {
namespace LAYERWISE_BACKEND {

struct Context;  // per-backend execution state: threads on CPU, stream and handles on CUDA

// ---- memory (copy.cc): used by the binding's buffer objects; device_* are not JS kernels ----
Status device_alloc(Context& ctx, void** out, int64_t bytes);
Status device_free(Context& ctx, void* ptr);
Status device_synchronize(Context& ctx);

// y[i] = value for every element, in y's dtype (any dtype; integers take the truncated value).
Status fill(Context& ctx,
            void* y,  // (n) [dtype]
            DType dtype, float value, int64_t n);
// y = x converted to y_dtype: float types round to nearest even (float32 -> bfloat16 as PyTorch's
// .to(torch.bfloat16)); float -> integer truncates toward zero (NaN -> 0, clamped to the range).
Status cast(Context& ctx,
            void* y,        // (n) [y_dtype]
            const void* x,  // (n) [x_dtype]
            DType y_dtype, DType x_dtype, int64_t n);
Status copy_bytes(Context& ctx,
                  uint8_t* dst,        // (bytes)
                  const uint8_t* src,  // (bytes)
                  int64_t bytes);
Status copy_from_host(Context& ctx,
                      uint8_t* dst,  // (bytes)
                      const void* host_src, int64_t bytes);
Status copy_to_host(Context& ctx,
                    void* host_dst,
                    const uint8_t* src,  // (bytes)
                    int64_t bytes);
// y = x.permute(host_perm) for any dtype; host_shape is x's shape; at most 8 dimensions. Also the
// conversion between memory formats: NCHW -> NHWC is perm (0, 2, 3, 1) of shape (N, C, H, W).
Status permute(Context& ctx,
               void* y,        // (numel) [dtype]
               const void* x,  // (numel) [dtype]
               DType dtype, int64_t numel, int64_t ndim,
               const int64_t* host_shape,  // (ndim)
               const int64_t* host_perm);  // (ndim)
// y = (x / 255 - mean[c]) / std[c]: uint8 pixels to normalized floats in y's dtype. x is
// (n, c, hw) or, with x_channels_last, (n, hw, c) (decoded HWC images); y likewise.
Status normalize_u8(Context& ctx,
                    void* y,           // (n, c, hw) [dtype]
                    const uint8_t* x,  // (n, c, hw)
                    DType dtype, int64_t n, int64_t c, int64_t hw, bool x_channels_last,
                    bool y_channels_last,
                    const float* host_mean,  // (c)
                    const float* host_std);  // (c)

// Block copy (cat, narrow, tokens), any dtype: for o < outer, `block` elements from src + o * src_stride
// + src_offset to dst + o * dst_stride + dst_offset (src_stride 0 repeats one); the rest of dst is kept.
Status copy_block(Context& ctx,
                  void* dst,        // ((outer - 1) * dst_stride + dst_offset + block) [dtype]
                  const void* src,  // ((outer - 1) * src_stride + src_offset + block) [dtype]
                  DType dtype, int64_t outer, int64_t block, int64_t src_stride, int64_t src_offset,
                  int64_t dst_stride, int64_t dst_offset);

// ---- matmul.cc ----
// c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] for i < batch, row-major; op(a) is (m, k),
// op(b) is (k, n). stride_* are in elements between consecutive matrices; 0 broadcasts one matrix.
// a, b and c share the dtype; products are accumulated in float32 and rounded once into c.
Status matmul_batched(Context& ctx,
                      void* c,        // ((batch - 1) * stride_c + m * n) [dtype]
                      const void* a,  // ((batch - 1) * stride_a + m * k) [dtype]
                      const void* b,  // ((batch - 1) * stride_b + k * n) [dtype]
                      DType dtype, int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b, float alpha, float beta, int64_t stride_a, int64_t stride_b,
                      int64_t stride_c);

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

// ---- loss.cc ---- (fused log-softmax + cross-entropy, per-row losses; the mean is a reduce. logits and
// dlogits in the kernel's dtype, computed in float/double; losses, log_probs, soft targets, dlosses float32.)
// losses[r] = -log_softmax(logits[r])[labels[r]]; a label outside [0, classes) is an error.
Status cross_entropy_forward(Context& ctx,
                             float* losses,          // (rows)
                             float* log_probs,       // (rows, classes)
                             const void* logits,     // (rows, classes) [dtype]
                             const int32_t* labels,  // (rows)
                             DType dtype, int64_t rows, int64_t classes);
// dlogits[r] = dlosses[r] * (softmax(logits[r]) - onehot(labels[r]))
Status cross_entropy_backward(Context& ctx,
                              void* dlogits,           // (rows, classes) [dtype]
                              const float* dlosses,    // (rows)
                              const float* log_probs,  // (rows, classes)
                              const int32_t* labels,   // (rows)
                              DType dtype, int64_t rows, int64_t classes);
// Soft targets (mixup, label smoothing): losses[r] = -sum_k targets[r, k] * log_softmax(logits[r])[k]
Status soft_cross_entropy_forward(Context& ctx,
                                  float* losses,         // (rows)
                                  float* log_probs,      // (rows, classes)
                                  const void* logits,    // (rows, classes) [dtype]
                                  const float* targets,  // (rows, classes)
                                  DType dtype, int64_t rows, int64_t classes);
// dlogits[r] = dlosses[r] * (softmax(logits[r]) * sum_k targets[r, k] - targets[r])
Status soft_cross_entropy_backward(Context& ctx,
                                   void* dlogits,           // (rows, classes) [dtype]
                                   const float* dlosses,    // (rows)
                                   const float* log_probs,  // (rows, classes)
                                   const float* targets,    // (rows, classes)
                                   DType dtype, int64_t rows, int64_t classes);
// Accuracy counts, ACCUMULATED (one buffer sums an evaluation): counts[0] += rows whose label has the
// largest logit, counts[1] += rows with the label among the k largest, counts[2] += rows with a NaN or
// +-inf logit (wrong for top-1 and top-k). A logit ranks above the label's when greater, or equal with
// a lower class index. A label outside [0, classes) is an error (counts unchanged).
Status classification_counts(Context& ctx,
                             int32_t* counts,        // (3)
                             const void* logits,     // (rows, classes) [dtype]
                             const int32_t* labels,  // (rows)
                             DType dtype, int64_t rows, int64_t classes, int64_t k);

// ---- reduce.cc ---- (accumulated in double, written as float32; `scale` 1/n gives the mean)
Status reduce_sum(Context& ctx,
                  float* out,     // (1)
                  const void* x,  // (n) [dtype]
                  DType dtype, int64_t n, double scale);
Status reduce_abs_sum(Context& ctx,
                      float* out,     // (1)
                      const void* x,  // (n) [dtype]
                      DType dtype, int64_t n, double scale);
Status reduce_sum_squares(Context& ctx,
                          float* out,     // (1)
                          const void* x,  // (n) [dtype]
                          DType dtype, int64_t n, double scale);
// ACCUMULATES: sum[0] += loss[0]; if loss[0] is not finite and first_bad_step[0] < 0, first_bad_step[0]
// = step: losses summed on the device, the first NaN/inf step found without per-step reads (start 0, -1).
Status accumulate_loss(Context& ctx,
                       float* sum,               // (1)
                       int32_t* first_bad_step,  // (1)
                       const float* loss,        // (1)
                       int64_t step);
// out[t] = scale_t * sum |x_t| for each tensor t: the probe's per-tensor mean |gradient|.
Status multi_reduce_abs_sum(Context& ctx,
                            float* out,               // (num_tensors)
                            const float* const* xs,   // num_tensors buffers
                            const int64_t* host_numels,  // (num_tensors)
                            const double* host_scales,   // (num_tensors)
                            int64_t num_tensors);
// out[t] = scale_t * sum x_t^2 for each tensor t: per-tensor norms for NG, LARC and LAMB.
Status multi_reduce_sum_squares(Context& ctx,
                                float* out,                  // (num_tensors)
                                const float* const* xs,      // num_tensors buffers
                                const int64_t* host_numels,  // (num_tensors)
                                const double* host_scales,   // (num_tensors)
                                int64_t num_tensors);

// ---- optim.cc ---- (fused multi-tensor steps; formulas of torch.optim, docs/method.md section 4)
// Per tensor t: lr_t = host_lrs[t] (the base lr times eta_t), wd_t = host_weight_decays[t]; g = grad + wd_t*w;
// b = g on the first step, else momentum*b + (1-dampening)*g; g = nesterov ? g + momentum*b : b; w -= lr_t*g.
Status sgd_step(Context& ctx,
                float* const* params,               // num_tensors buffers
                const float* const* grads,          // num_tensors buffers
                float* const* momentum_buffers,     // num_tensors buffers, or none if momentum == 0
                const int64_t* host_numels,         // (num_tensors)
                const double* host_lrs,             // (num_tensors)
                const double* host_weight_decays,   // (num_tensors)
                int64_t num_tensors, double momentum, double dampening, bool nesterov,
                bool first_step);
// w *= 1 - lr_t*wd_t; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
// w -= (lr_t / bias_correction1) * m / (sqrt(v) / sqrt(bias_correction2) + eps)
Status adamw_step(Context& ctx,
                  float* const* params,              // num_tensors buffers
                  const float* const* grads,         // num_tensors buffers
                  float* const* exp_avgs,            // num_tensors buffers
                  float* const* exp_avg_sqs,         // num_tensors buffers
                  const int64_t* host_numels,        // (num_tensors)
                  const double* host_lrs,            // (num_tensors)
                  const double* host_weight_decays,  // (num_tensors)
                  int64_t num_tensors, double beta1, double beta2, double eps,
                  double bias_correction1, double bias_correction2);
// float16 loss scaling (optim_amp.cc), torch.amp.GradScaler's unscale: g *= inv_scale for every element,
// found_inf[0] = 1 when any element (before scaling) is NaN or infinite. found_inf is only ever set, never
// cleared, so one flag covers several calls; the host reads it once per optimizer step.
Status multi_unscale_found_inf(Context& ctx,
                               float* const* grads,         // num_tensors buffers
                               float* found_inf,            // (1)
                               const int64_t* host_numels,  // (num_tensors)
                               int64_t num_tensors, float inv_scale);
// y_t = alpha_t * y_t + beta_t * x_t per tensor (optim_baselines.cc): NG and LARC rescaling, LAMB's update.
Status multi_axpby(Context& ctx,
                   float* const* ys,            // num_tensors buffers
                   const float* const* xs,      // num_tensors buffers
                   const int64_t* host_numels,  // (num_tensors)
                   const double* host_alphas,   // (num_tensors)
                   const double* host_betas,    // (num_tensors)
                   int64_t num_tensors);
// LAMB's update direction (optim_baselines.cc), written over the gradients: m and v as Adam
// (m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g^2), then r = (m/bc1) / (sqrt(v/bc2) + eps) + wd_t*w.
Status lamb_direction(Context& ctx,
                      float* const* grads,               // num_tensors buffers (r on return)
                      float* const* exp_avgs,            // num_tensors buffers
                      float* const* exp_avg_sqs,         // num_tensors buffers
                      const float* const* params,        // num_tensors buffers
                      const int64_t* host_numels,        // (num_tensors)
                      const double* host_weight_decays,  // (num_tensors)
                      int64_t num_tensors, double beta1, double beta2, double eps,
                      double bias_correction1, double bias_correction2);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
