// CPU memory kernels: allocation (the caching allocator of allocator.h), fills, copies between host and "device"
// (both host memory here), permutes and uint8 -> float normalization. The per-element math (conversions,
// normalization, permute offsets) is native/shared/copy_math.h, shared with native/cuda/copy.cu.
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <new>
#include <vector>

#include "cpu/allocator.h"
#include "cpu/context.h"
#include "shared/copy_math.h"

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

using shared::convert;
using shared::convert_from_float;
using shared::dispatch_any;

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
      } else {
#pragma omp parallel for simd if (n > 65536)
        for (int64_t i = 0; i < n; i++) yt[i] = convert<D>(xt[i]);
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
// Walks y row by row: the innermost y dimension reads x with stride src_stride[ndim - 1]; the
// row's start comes from the shared index math (native/shared/copy_math.h).
template <typename E>
void permute_rows(E* y, const E* x, const shared::PermuteGeometry& geo, int64_t numel) {
  const int32_t ndim = geo.ndim;
  const int64_t inner = geo.y_shape[ndim - 1];
  const int64_t inner_stride = geo.src_stride[ndim - 1];
  const int64_t outer = inner == 0 ? 0 : numel / inner;
#pragma omp parallel for if (numel > 65536)
  for (int64_t o = 0; o < outer; o++) {
    E* out = y + o * inner;
    const E* in = x + shared::permute_source_offset(geo, ndim - 1, o);
    for (int64_t i = 0; i < inner; i++) out[i] = in[i * inner_stride];
  }
}
}  // namespace

Status permute(Context& ctx, void* y, const void* x, DType dtype, int64_t numel, int64_t ndim,
               const int64_t* host_shape, const int64_t* host_perm) {
  shared::PermuteGeometry geo;
  LW_RETURN_IF_ERROR(shared::make_permute_geometry("permute", numel, ndim, host_shape, host_perm, &geo));
  // Only the element size matters: move 4-, 2- or 1-byte words.
  switch (dtype_size(dtype)) {
    case 4: permute_rows(static_cast<uint32_t*>(y), static_cast<const uint32_t*>(x), geo, numel); break;
    case 2: permute_rows(static_cast<uint16_t*>(y), static_cast<const uint16_t*>(x), geo, numel); break;
    default: permute_rows(static_cast<uint8_t*>(y), static_cast<const uint8_t*>(x), geo, numel); break;
  }
  return Status::Ok();
}

Status normalize_u8(Context& ctx, void* y, const uint8_t* x, DType dtype, int64_t n, int64_t c, int64_t hw,
                    bool x_channels_last, bool y_channels_last, const float* host_mean, const float* host_std) {
  LW_RETURN_IF_ERROR(check_sizes("normalize_u8", {{"n", n}, {"c", c}, {"hw", hw}}));
  std::vector<float> scale(c), shift(c);
  for (int64_t k = 0; k < c; k++) {
    if (!shared::normalize_coefficients(host_mean[k], host_std[k], &scale[k], &shift[k]))
      return Status::Invalid("normalize_u8", "std[" + std::to_string(k) + "] must be positive");
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
        for (int64_t j = 0; j < hw; j++) out[j * y_js] = from_f32<T>(shared::normalize_value(in[j * x_js], sk, bk));
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
