// Element types of the contract (kernels.h): float32, bfloat16 and float16 storage for mixed
// precision, int32 labels and uint8 pixels. Low-precision values are stored as 16-bit patterns
// and converted to float for arithmetic: every kernel accumulates in float (or double).
//
// The conversions are written once for both backends: LW_HD marks them __host__ __device__ when
// nvcc compiles this header, so the CPU tests cover the exact bits the CUDA kernels produce.
//   float -> bfloat16: round to nearest, ties to even; NaN stays a quiet NaN (as PyTorch's
//                      c10::BFloat16 round_to_nearest_even).
//   float -> float16:  round to nearest even with subnormals, overflow to inf (IEEE 754).
#pragma once
#include <cstdint>
#include <cstring>

#include "layerwise/status.h"

#if defined(__CUDACC__)
#define LW_HD __host__ __device__ __forceinline__
#else
#define LW_HD inline
#endif

namespace layerwise {

// The numeric values are part of the backend ABI; the names are the TypeScript dtype names.
enum class DType : int32_t { kF32 = 0, kBF16 = 1, kF16 = 2, kI32 = 3, kU8 = 4 };

inline int64_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: case DType::kI32: return 4;
    case DType::kBF16: case DType::kF16: return 2;
    case DType::kU8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kBF16: return "bfloat16";
    case DType::kF16: return "float16";
    case DType::kI32: return "int32";
    case DType::kU8: return "uint8";
  }
  return "unknown";
}

struct bf16 {
  uint16_t bits;
};
struct f16 {
  uint16_t bits;
};

LW_HD uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
LW_HD float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

LW_HD uint16_t f32_to_bf16_bits(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
LW_HD float bf16_bits_to_f32(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }

LW_HD uint16_t f32_to_f16_bits(float value) {
  uint32_t f = float_bits(value);
  const uint32_t sign = f & 0x80000000u;
  f ^= sign;
  uint32_t o;
  if (f >= (143u << 23)) {  // >= 65536 (or inf / NaN): inf, or a quiet NaN
    o = f > (255u << 23) ? 0x7e00u : 0x7c00u;
  } else if (f < (113u << 23)) {  // below 2^-14: subnormal half or zero; the float add rounds
    const uint32_t magic = 126u << 23;  // 0.5: aligns bit 24 of the sum with the half's last bit
    o = float_bits(bits_float(f) + bits_float(magic)) - magic;
  } else {
    const uint32_t mantissa_odd = (f >> 13) & 1u;
    f += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu + mantissa_odd;  // rebias and round
    o = f >> 13;
  }
  return static_cast<uint16_t>(o | (sign >> 16));
}

LW_HD float f16_bits_to_f32(uint16_t h) {
  const uint32_t shifted_exp = 0x7c00u << 13;
  uint32_t o = (static_cast<uint32_t>(h) & 0x7fffu) << 13;
  const uint32_t exp = shifted_exp & o;
  o += static_cast<uint32_t>(127 - 15) << 23;
  if (exp == shifted_exp) {
    o += static_cast<uint32_t>(128 - 16) << 23;  // inf / NaN
  } else if (exp == 0) {
    o += 1u << 23;  // zero / subnormal: renormalize through a float subtraction
    o = float_bits(bits_float(o) - bits_float(113u << 23));
  }
  return bits_float(o | ((static_cast<uint32_t>(h) & 0x8000u) << 16));
}

LW_HD float to_f32(float x) { return x; }
LW_HD float to_f32(bf16 x) { return bf16_bits_to_f32(x.bits); }
LW_HD float to_f32(f16 x) { return f16_bits_to_f32(x.bits); }

template <typename T>
LW_HD T from_f32(float x);
template <>
LW_HD float from_f32<float>(float x) { return x; }
template <>
LW_HD bf16 from_f32<bf16>(float x) { return bf16{f32_to_bf16_bits(x)}; }
template <>
LW_HD f16 from_f32<f16>(float x) { return f16{f32_to_f16_bits(x)}; }

// Runs body(T{}) with T = float, bf16 or f16 for the floating dtypes; any other dtype is an
// error naming the op. Kernels cast their void pointers to T* inside the body.
template <typename Body>
Status dispatch_float(DType dtype, const char* op, Body&& body) {
  switch (dtype) {
    case DType::kF32: return body(float{});
    case DType::kBF16: return body(bf16{});
    case DType::kF16: return body(f16{});
    default: break;
  }
  return Status::Error(StatusCode::kNotImplemented, op,
                       std::string("dtype ") + dtype_name(dtype) + " is not supported (float32, bfloat16, float16)");
}

}  // namespace layerwise
