// CPU memory kernels: allocation (the caching allocator of allocator.h), fills, copies between host and "device"
// (both host memory here), permutes and uint8 -> float normalization.
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
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

namespace {

// Value conversions for cast and fill: float types through float (round to nearest even), to
// integers by truncation with NaN -> 0 and clamping to the target's range.
template <typename D>
D convert_from_float(float v) {
  if constexpr (std::is_same_v<D, int32_t> || std::is_same_v<D, uint8_t>) {
    if (!(v == v)) return 0;
    const float lo = static_cast<float>(std::numeric_limits<D>::min());
    const float hi = static_cast<float>(std::numeric_limits<D>::max());
    if (v <= lo) return std::numeric_limits<D>::min();
    if (v >= hi) return std::numeric_limits<D>::max();
    return static_cast<D>(v);
  } else {
    return from_f32<D>(v);
  }
}

template <typename S>
float convert_to_float(S v) {
  if constexpr (std::is_same_v<S, int32_t> || std::is_same_v<S, uint8_t>) return static_cast<float>(v);
  else return to_f32(v);
}

// Runs body(T{}) for any of the five dtypes.
template <typename Body>
Status dispatch_any(DType dtype, const char* op, Body&& body) {
  switch (dtype) {
    case DType::kI32: return body(int32_t{});
    case DType::kU8: return body(uint8_t{});
    default: return dispatch_float(dtype, op, body);
  }
}

}  // namespace

Status fill(Context& ctx, void* y, DType dtype, float value, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("fill", {{"n", n}}));
  return dispatch_any(dtype, "fill", [&](auto tag) {
    using T = decltype(tag);
    const T v = convert_from_float<T>(value);
    T* yt = static_cast<T*>(y);
#pragma omp parallel for simd if (n > 65536)
    for (int64_t i = 0; i < n; i++) yt[i] = v;
    return Status::Ok();
  });
}

Status cast(Context& ctx, void* y, const void* x, DType y_dtype, DType x_dtype, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("cast", {{"n", n}}));
  return dispatch_any(x_dtype, "cast", [&](auto source) {
    using S = decltype(source);
    return dispatch_any(y_dtype, "cast", [&](auto target) {
      using D = decltype(target);
      const S* xt = static_cast<const S*>(x);
      D* yt = static_cast<D*>(y);
      if constexpr (std::is_same_v<S, D>) {
        if (static_cast<const void*>(xt) != static_cast<void*>(yt)) std::memmove(yt, xt, static_cast<size_t>(n) * sizeof(S));
      } else if constexpr (std::is_integral_v<S> && std::is_integral_v<D>) {
#pragma omp parallel for simd if (n > 65536)
        for (int64_t i = 0; i < n; i++) yt[i] = static_cast<D>(xt[i]);
      } else {
#pragma omp parallel for simd if (n > 65536)
        for (int64_t i = 0; i < n; i++) yt[i] = convert_from_float<D>(convert_to_float(xt[i]));
      }
      return Status::Ok();
    });
  });
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

namespace {
template <typename E>
void permute_rows(E* y, const E* x, int64_t outer, int64_t inner, int64_t inner_stride, int64_t ndim,
                  const int64_t* y_shape, const int64_t* x_strides, const int64_t* perm, int64_t numel) {
#pragma omp parallel for if (numel > 65536)
  for (int64_t o = 0; o < outer; o++) {
    int64_t rem = o;
    int64_t offset = 0;
    for (int64_t d = ndim - 2; d >= 0; d--) {
      int64_t idx = rem % y_shape[d];
      rem /= y_shape[d];
      offset += idx * x_strides[perm[d]];
    }
    E* out = y + o * inner;
    const E* in = x + offset;
    for (int64_t i = 0; i < inner; i++) out[i] = in[i * inner_stride];
  }
}
}  // namespace

Status permute(Context& ctx, void* y, const void* x, DType dtype, int64_t numel, int64_t ndim,
               const int64_t* host_shape, const int64_t* host_perm) {
  const char* op = "permute";
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
  // Only the element size matters: move 4-, 2- or 1-byte words.
  switch (dtype_size(dtype)) {
    case 4: permute_rows(static_cast<uint32_t*>(y), static_cast<const uint32_t*>(x), outer, inner, inner_stride, ndim, y_shape, x_strides, host_perm, numel); break;
    case 2: permute_rows(static_cast<uint16_t*>(y), static_cast<const uint16_t*>(x), outer, inner, inner_stride, ndim, y_shape, x_strides, host_perm, numel); break;
    default: permute_rows(static_cast<uint8_t*>(y), static_cast<const uint8_t*>(x), outer, inner, inner_stride, ndim, y_shape, x_strides, host_perm, numel); break;
  }
  return Status::Ok();
}

Status normalize_u8(Context& ctx, void* y, const uint8_t* x, DType dtype, int64_t n, int64_t c, int64_t hw,
                    bool x_channels_last, bool y_channels_last, const float* host_mean, const float* host_std) {
  LW_RETURN_IF_ERROR(check_sizes("normalize_u8", {{"n", n}, {"c", c}, {"hw", hw}}));
  std::vector<float> scale(c), shift(c);
  for (int64_t k = 0; k < c; k++) {
    if (!(host_std[k] > 0)) return Status::Invalid("normalize_u8", "std[" + std::to_string(k) + "] must be positive");
    scale[k] = 1.0f / (255.0f * host_std[k]);
    shift[k] = -host_mean[k] / host_std[k];
  }
  // Element (i, k, j) of channel k at position j lives at (i*c + k)*hw + j (NCHW) or (i*hw + j)*c + k (NHWC).
  const int64_t x_cs = x_channels_last ? 1 : hw, x_js = x_channels_last ? c : 1;
  const int64_t y_cs = y_channels_last ? 1 : hw, y_js = y_channels_last ? c : 1;
  return dispatch_float(dtype, "normalize_u8", [&](auto tag) {
    using T = decltype(tag);
    T* yt = static_cast<T*>(y);
#pragma omp parallel for collapse(2) if (n * c * hw > 65536)
    for (int64_t i = 0; i < n; i++)
      for (int64_t k = 0; k < c; k++) {
        const uint8_t* in = x + i * c * hw + k * x_cs;
        T* out = yt + i * c * hw + k * y_cs;
        const float sk = scale[k], bk = shift[k];
        for (int64_t j = 0; j < hw; j++) out[j * y_js] = from_f32<T>(static_cast<float>(in[j * x_js]) * sk + bk);
      }
    return Status::Ok();
  });
}

}  // namespace layerwise::cpu

namespace layerwise::cpu {

// One memcpy per block; blocks in parallel when there are many small ones or a lot to copy.
Status copy_block(Context& ctx, void* dst, const void* src, DType dtype, int64_t outer, int64_t block,
                  int64_t src_stride, int64_t src_offset, int64_t dst_stride, int64_t dst_offset) {
  const char* op = "copy_block";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"outer", outer}, {"block", block}, {"src_stride", src_stride},
                                      {"src_offset", src_offset}, {"dst_stride", dst_stride},
                                      {"dst_offset", dst_offset}}));
  if (outer > 1 && dst_stride < block)
    return Status::Invalid(op, "dst_stride must be at least block so that blocks do not overlap (" +
                                   describe({{"outer", outer}, {"block", block}, {"dst_stride", dst_stride}}) + ")");
  if (outer == 0 || block == 0) return Status::Ok();
  const int64_t es = dtype_size(dtype);
  if (es == 0) return Status::Invalid(op, "unknown dtype");
  const uint8_t* s = static_cast<const uint8_t*>(src);
  uint8_t* d = static_cast<uint8_t*>(dst);
  const size_t bytes = static_cast<size_t>(block * es);
#pragma omp parallel for schedule(static) if (outer > 1 && outer * block * es > (1 << 20))
  for (int64_t o = 0; o < outer; o++)
    std::memcpy(d + (o * dst_stride + dst_offset) * es, s + (o * src_stride + src_offset) * es, bytes);
  return Status::Ok();
}

}  // namespace layerwise::cpu
