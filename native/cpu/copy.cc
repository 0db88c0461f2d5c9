// CPU memory kernels: allocation (the caching allocator of allocator.h), fills, copies between host and "device"
// (both host memory here), permutes and uint8 -> float normalization.
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "cpu/allocator.h"
#include "cpu/context.h"

namespace layerwise::cpu {

Status device_alloc(Context& ctx, void** out, int64_t bytes) {
  if (bytes < 0) return Status::Invalid("alloc", "negative size " + std::to_string(bytes));
  void* p = cached_alloc(bytes);
  if (p == nullptr)
    return Status::Error(StatusCode::kOutOfMemory, "alloc", "cannot allocate " + std::to_string(bytes) + " bytes");
  *out = p;
  return Status::Ok();
}

Status device_free(Context& ctx, void* ptr) {
  cached_free(ptr);
  return Status::Ok();
}

Status device_synchronize(Context& ctx) { return Status::Ok(); }

Status fill_f32(Context& ctx, float* y, float value, int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; i++) y[i] = value;
  return Status::Ok();
}

// Device-to-device copy; large non-overlapping copies run in parallel 1 MiB pieces.
Status copy_bytes(Context& ctx, uint8_t* dst, const uint8_t* src, int64_t bytes) {
  if (bytes <= 0 || dst == src) return Status::Ok();
  const bool overlap = dst < src + bytes && src < dst + bytes;
  constexpr int64_t kPiece = 1 << 20;
  if (overlap || bytes < 4 * kPiece) {
    std::memmove(dst, src, static_cast<size_t>(bytes));
    return Status::Ok();
  }
  const int64_t pieces = (bytes + kPiece - 1) / kPiece;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < pieces; p++) {
    const int64_t start = p * kPiece;
    std::memcpy(dst + start, src + start, static_cast<size_t>(bytes - start < kPiece ? bytes - start : kPiece));
  }
  return Status::Ok();
}

Status copy_from_host(Context& ctx, uint8_t* dst, const void* host_src, int64_t bytes) {
  if (bytes > 0) std::memcpy(dst, host_src, static_cast<size_t>(bytes));
  return Status::Ok();
}

Status copy_to_host(Context& ctx, void* host_dst, const uint8_t* src, int64_t bytes) {
  if (bytes > 0) std::memcpy(host_dst, src, static_cast<size_t>(bytes));
  return Status::Ok();
}

Status permute_f32(Context& ctx, float* y, const float* x, int64_t numel, int64_t ndim,
                   const int64_t* host_shape, const int64_t* host_perm) {
  const char* op = "permute_f32";
  if (ndim < 1 || ndim > 8) return Status::Invalid(op, "ndim must be in 1..8, got " + std::to_string(ndim));
  int64_t x_strides[8];
  int64_t y_shape[8];
  int64_t total = 1;
  bool seen[8] = {false};
  for (int64_t d = ndim - 1; d >= 0; d--) {
    if (host_shape[d] < 0) return Status::Invalid(op, "negative dimension " + std::to_string(host_shape[d]));
    x_strides[d] = total;
    total *= host_shape[d];
  }
  if (total != numel)
    return Status::Invalid(op, "shape has " + std::to_string(total) + " elements, numel=" + std::to_string(numel));
  for (int64_t d = 0; d < ndim; d++) {
    int64_t p = host_perm[d];
    if (p < 0 || p >= ndim || seen[p]) return Status::Invalid(op, "perm is not a permutation of 0.." + std::to_string(ndim - 1));
    seen[p] = true;
    y_shape[d] = host_shape[p];
  }
  // Walk y in order; the innermost y dimension maps to stride x_strides[perm[ndim-1]].
  int64_t inner = y_shape[ndim - 1];
  int64_t inner_stride = x_strides[host_perm[ndim - 1]];
  int64_t outer = inner == 0 ? 0 : numel / inner;
#pragma omp parallel for if (numel > 65536)
  for (int64_t o = 0; o < outer; o++) {
    int64_t rem = o;
    int64_t offset = 0;
    for (int64_t d = ndim - 2; d >= 0; d--) {
      int64_t idx = rem % y_shape[d];
      rem /= y_shape[d];
      offset += idx * x_strides[host_perm[d]];
    }
    float* out = y + o * inner;
    const float* in = x + offset;
    for (int64_t i = 0; i < inner; i++) out[i] = in[i * inner_stride];
  }
  return Status::Ok();
}

Status normalize_u8(Context& ctx, float* y, const uint8_t* x, int64_t n, int64_t c, int64_t hw,
                    const float* host_mean, const float* host_std) {
  std::vector<float> scale(c), shift(c);
  for (int64_t k = 0; k < c; k++) {
    if (!(host_std[k] > 0)) return Status::Invalid("normalize_u8", "std[" + std::to_string(k) + "] must be positive");
    scale[k] = 1.0f / (255.0f * host_std[k]);
    shift[k] = -host_mean[k] / host_std[k];
  }
#pragma omp parallel for collapse(2) if (n * c * hw > 65536)
  for (int64_t i = 0; i < n; i++)
    for (int64_t k = 0; k < c; k++) {
      const uint8_t* in = x + (i * c + k) * hw;
      float* out = y + (i * c + k) * hw;
      for (int64_t j = 0; j < hw; j++) out[j] = static_cast<float>(in[j]) * scale[k] + shift[k];
    }
  return Status::Ok();
}

}  // namespace layerwise::cpu
