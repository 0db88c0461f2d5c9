// Per-element math of the copy kernels (native/cpu/copy.cc, native/cuda/copy.cu), written once for
// both backends (LW_HD: __host__ __device__ under nvcc), so the CPU tests cover the GPU's values:
//   * cast/fill conversions: float types through float with dtype.h's round-to-nearest-even;
//     float -> int32/uint8 truncates toward zero, NaN -> 0, clamped to the target's range;
//   * normalize_u8: y = x * scale[c] + shift[c] with scale = 1 / (255 std), shift = -mean / std,
//     both computed on the host in float (normalize_coefficients), so the per-element formula is
//     one multiply-add on both backends;
//   * permute: the source offset of an output position, from the output shape and the source
//     strides in output order (PermuteGeometry, validated on the host with the CPU's messages).
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>

#include "layerwise/dtype.h"
#include "layerwise/status.h"

namespace layerwise::shared {

// ---- conversions (cast, fill) ----
// The integer range limits as floats: float(INT32_MAX) rounds up to 2^31, so `v >= hi` catches
// every value that does not fit, exactly as the CPU backend always did.
template <typename D>
LW_HD D convert_from_float(float v) {
  if constexpr (std::is_same_v<D, int32_t>) {
    if (!(v == v)) return 0;
    if (v <= -2147483648.0f) return INT32_MIN;
    if (v >= 2147483648.0f) return INT32_MAX;
    return static_cast<int32_t>(v);
  } else if constexpr (std::is_same_v<D, uint8_t>) {
    if (!(v == v)) return 0;
    if (v <= 0.0f) return 0;
    if (v >= 255.0f) return 255;
    return static_cast<uint8_t>(v);
  } else {
    return from_f32<D>(v);
  }
}

template <typename S>
LW_HD float convert_to_float(S v) {
  if constexpr (std::is_same_v<S, int32_t> || std::is_same_v<S, uint8_t>) return static_cast<float>(v);
  else return to_f32(v);
}

// x (S) -> y (D): integer to integer by static_cast (wraps as C++ does), otherwise through float.
template <typename D, typename S>
LW_HD D convert(S v) {
  if constexpr (std::is_integral_v<S> && std::is_integral_v<D>) return static_cast<D>(v);
  else return convert_from_float<D>(convert_to_float(v));
}

// Host side: runs body(T{}) for any of the five dtypes (int32, uint8, then dispatch_float).
template <typename Body>
Status dispatch_any(DType dtype, const char* op, Body&& body) {
  switch (dtype) {
    case DType::kI32: return body(int32_t{});
    case DType::kU8: return body(uint8_t{});
    default: return dispatch_float(dtype, op, body);
  }
}

// ---- normalize_u8 ----
// Host side: per-channel scale and shift; false when std[k] is not positive.
inline bool normalize_coefficients(float mean, float std_dev, float* scale, float* shift) {
  if (!(std_dev > 0)) return false;
  *scale = 1.0f / (255.0f * std_dev);
  *shift = -mean / std_dev;
  return true;
}

// One multiply-add; nvcc and GCC (-ffp-contract=fast, the GNU default) both fuse it into an FMA
// where the processor has one, so the backends agree to the bit there and within 1 ulp otherwise.
LW_HD float normalize_value(uint8_t x, float scale, float shift) { return static_cast<float>(x) * scale + shift; }

// ---- permute ----
constexpr int kMaxPermuteDims = 8;

// y = x.permute(perm): y_shape[d] = shape[perm[d]], src_stride[d] = x's stride of dimension perm[d].
struct PermuteGeometry {
  int32_t ndim;
  int64_t y_shape[kMaxPermuteDims];
  int64_t src_stride[kMaxPermuteDims];
};

// Host side: checks ndim, the shape against numel and that perm is a permutation (the CPU
// backend's messages), then fills `geo`.
inline Status make_permute_geometry(const char* op, int64_t numel, int64_t ndim, const int64_t* shape,
                                    const int64_t* perm, PermuteGeometry* geo) {
  if (ndim < 1 || ndim > kMaxPermuteDims)
    return Status::Invalid(op, "ndim must be in 1.." + std::to_string(kMaxPermuteDims) + ", got " + std::to_string(ndim));
  int64_t x_strides[kMaxPermuteDims];
  int64_t total = 1;
  for (int64_t d = ndim - 1; d >= 0; d--) {
    if (shape[d] < 0) return Status::Invalid(op, "negative dimension " + std::to_string(shape[d]));
    x_strides[d] = total;
    total *= shape[d];
  }
  if (total != numel)
    return Status::Invalid(op, "shape has " + std::to_string(total) + " elements, numel=" + std::to_string(numel));
  bool seen[kMaxPermuteDims] = {false};
  geo->ndim = static_cast<int32_t>(ndim);
  for (int64_t d = 0; d < ndim; d++) {
    const int64_t p = perm[d];
    if (p < 0 || p >= ndim || seen[p])
      return Status::Invalid(op, "perm is not a permutation of 0.." + std::to_string(ndim - 1));
    seen[p] = true;
    geo->y_shape[d] = shape[p];
    geo->src_stride[d] = x_strides[p];
  }
  return Status::Ok();
}

// The offset in x of y's element at row-major position `index` over y's first `dims` dimensions
// (the CPU passes the row index over ndim - 1 dimensions, the GPU the element index over all).
// I is the index type: int64_t, or uint32_t on the GPU when x has fewer than 2^32 elements (its
// divisions are much cheaper there).
template <typename I>
LW_HD I permute_source_offset(const PermuteGeometry& geo, int32_t dims, I index) {
  I offset = 0;
  for (int32_t d = dims - 1; d >= 0; d--) {
    const I extent = static_cast<I>(geo.y_shape[d]);
    offset += (index % extent) * static_cast<I>(geo.src_stride[d]);
    index /= extent;
  }
  return offset;
}

}  // namespace layerwise::shared
