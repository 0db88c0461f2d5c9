// Float32 staging for kernels that run low-precision or channels-last storage through their
// float32 NCHW code (conv2d and matmul fallbacks): a buffer of `dtype` values is loaded into
// float32 scratch, the float32 kernel runs, and the result is rounded back to nearest even
// (layerwise/dtype.h). Only the float dtypes are accepted; callers check the dtype first.
#pragma once
#include <cstdint>
#include <memory>

#include "cpu/context.h"

namespace layerwise::cpu {

// Uninitialized float32 scratch owned by the caller (throws std::bad_alloc).
inline std::unique_ptr<float[]> scratch_f32(int64_t n) {
  return std::unique_ptr<float[]>(new float[static_cast<size_t>(n > 0 ? n : 1)]);
}

// dst[i] = float(src[i]) for n values.
void load_f32(float* dst, const void* src, DType dtype, int64_t n);
// dst[i] = round(src[i]) to dtype for n values.
void store_f32(void* dst, const float* src, DType dtype, int64_t n);
// An (n, c, hw) image tensor: dst is float32 NCHW; src is `dtype`, NHWC when channels_last.
void load_f32_nchw(float* dst, const void* src, DType dtype, bool channels_last, int64_t n,
                   int64_t c, int64_t hw);
// The reverse: dst is `dtype` (NHWC when channels_last); src is float32 NCHW.
void store_f32_nchw(void* dst, const float* src, DType dtype, bool channels_last, int64_t n,
                    int64_t c, int64_t hw);

}  // namespace layerwise::cpu
