// kernels/copy.h: the copy kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

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

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
