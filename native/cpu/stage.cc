// Float32 staging (stage.h): dtype conversion, optionally fused with NHWC <-> NCHW.
#include "cpu/stage.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

template <typename Body>
void dispatch(DType dtype, Body&& body) {
  (void)dispatch_float(dtype, "stage", [&](auto tag) {
    body(tag);
    return Status::Ok();
  });
}

}  // namespace

void load_f32(float* dst, const void* src, DType dtype, int64_t n) {
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(src);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) dst[i] = to_f32(s[i]);
  });
}

void store_f32(void* dst, const float* src, DType dtype, int64_t n) {
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) d[i] = from_f32<T>(src[i]);
  });
}

void load_f32_nchw(float* dst, const void* src, DType dtype, bool channels_last, int64_t n,
                   int64_t c, int64_t hw) {
  if (!channels_last) return load_f32(dst, src, dtype, n * c * hw);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(src);
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > kParallelMin)
    for (int64_t b = 0; b < n; b++)
      for (int64_t p = 0; p < hw; p++) {
        const T* row = s + (b * hw + p) * c;
        float* out = dst + b * c * hw + p;
        for (int64_t ch = 0; ch < c; ch++) out[ch * hw] = to_f32(row[ch]);
      }
  });
}

void store_f32_nchw(void* dst, const float* src, DType dtype, bool channels_last, int64_t n,
                    int64_t c, int64_t hw) {
  if (!channels_last) return store_f32(dst, src, dtype, n * c * hw);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst);
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > kParallelMin)
    for (int64_t b = 0; b < n; b++)
      for (int64_t p = 0; p < hw; p++) {
        T* row = d + (b * hw + p) * c;
        const float* in = src + b * c * hw + p;
        for (int64_t ch = 0; ch < c; ch++) row[ch] = from_f32<T>(in[ch * hw]);
      }
  });
}

}  // namespace layerwise::cpu
