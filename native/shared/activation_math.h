// Activation math shared by the CPU and CUDA backends (LW_HD: __host__ __device__ under nvcc):
// a vectorizable exp, the normal CDF behind GELU, the dropout hash and the per-element ReLU, GELU,
// softmax-backward and dropout formulas. Written once so that the CPU tests cover the arithmetic
// the GPU kernels run.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "layerwise/dtype.h"

namespace layerwise::shared {

// c ? a : b on the bits. GCC (with trapping math, the default) will not if-convert a `?:` whose
// arm holds arithmetic, which blocks vectorization; this select always vectorizes.
LW_HD float select_f32(bool c, float a, float b) {
  uint32_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const uint32_t m = 0u - static_cast<uint32_t>(c);
  const uint32_t r = (ua & m) | (ub & ~m);
  float out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}

// exp(x) for x <= 88 in float, about 1 ulp, as straight-line code the compiler vectorizes (libm's
// expf is a call it cannot). Cephes expf: x = n*ln2 + r with |r| <= ln2/2 (ln2 split in two for
// Cody-Waite reduction), a degree-6 polynomial for e^r, then 2^n built in the exponent bits.
// x < -87 (e^x < 1.7e-38) gives 0, -inf included; NaN stays NaN.
LW_HD float exp_f32(float x) {
  const float lo = -87.0f;
  float xc = select_f32(x > lo, x, lo);  // NaN -> lo here; restored at the end
  xc = select_f32(xc < 88.0f, xc, 88.0f);
  // round(x / ln2). Every multiply-add here is an explicit fmaf: GCC (-ffp-contract=fast) and nvcc
  // would each decide on their own whether to fuse `a * b + c`, and the backends must agree.
  const float n = fmaf(xc, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
  float r = fmaf(n, -0.693359375f, xc);
  r = fmaf(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = fmaf(p, r, 1.3981999507e-3f);
  p = fmaf(p, r, 8.3334519073e-3f);
  p = fmaf(p, r, 4.1665795894e-2f);
  p = fmaf(p, r, 1.6666665459e-1f);
  p = fmaf(p, r, 5.0000001201e-1f);
  p = fmaf(p, r * r, r + 1.0f);
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float e = p * scale;
  return select_f32(x != x, x, select_f32(x < lo, 0.0f, e));
}

// erfc(z) for z >= 0 with relative error < 1.2e-7 (Numerical Recipes 6.2, erfcc: a Chebyshev fit
// of erfc(z) * exp(z^2) in t = 1 / (1 + z/2)). Relative accuracy in the tail keeps Phi(x) accurate
// for negative x, where 1 - Phi would cancel.
LW_HD float erfc_nonneg(float z) {
  const float t = 1.0f / fmaf(0.5f, z, 1.0f);
  float p = 0.17087277f;
  p = fmaf(p, t, -0.82215223f);
  p = fmaf(p, t, 1.48851587f);
  p = fmaf(p, t, -1.13520398f);
  p = fmaf(p, t, 0.27886807f);
  p = fmaf(p, t, -0.18628806f);
  p = fmaf(p, t, 0.09678418f);
  p = fmaf(p, t, 0.37409196f);
  p = fmaf(p, t, 1.00002368f);
  p = fmaf(p, t, -1.26551223f);
  return t * exp_f32(fmaf(-z, z, p));
}

// Standard normal CDF Phi(x) = 1/2 + erf(x / sqrt(2)) / 2, to about 1 ulp. |x| < 1.25: the
// Taylor series of erf(z) / z in z^2 (13 terms, well conditioned there); elsewhere
// erfc(|x| / sqrt(2)) / 2 or its complement (a float evaluation of the erfc fit alone loses ~3 ulp
// near 0 to cancellation in its polynomial). Both are computed and one selected, to vectorize.
LW_HD float normal_cdf(float x) {
  const float z = x * 0.70710678118654752f;
  const float z2 = z * z;
  float q = 9.422759064650411e-11f;  // (2/sqrt(pi)) (-1)^k / (k! (2k+1)), k = 12 .. 0
  q = fmaf(q, z2, -1.2290555301717926e-09f);
  q = fmaf(q, z2, 1.4807192815879218e-08f);
  q = fmaf(q, z2, -1.6365844691234924e-07f);
  q = fmaf(q, z2, 1.6462114365889246e-06f);
  q = fmaf(q, z2, -1.492565035840625e-05f);
  q = fmaf(q, z2, 0.00012055332981789664f);
  q = fmaf(q, z2, -0.0008548327023450852f);
  q = fmaf(q, z2, 0.005223977625442188f);
  q = fmaf(q, z2, -0.026866170645131252f);
  q = fmaf(q, z2, 0.11283791670955126f);
  q = fmaf(q, z2, -0.37612638903183754f);
  q = fmaf(q, z2, 1.1283791670955126f);
  const float central = fmaf(0.5f * z, q, 0.5f);
  const float h = 0.5f * erfc_nonneg(fabsf(z));
  const float tail = select_f32(x >= 0.0f, 1.0f - h, h);
  return select_f32(fabsf(x) < 1.25f, central, tail);
}

// The dropout hash (the contract every backend implements identically, here and in
// native/cuda/activation.cu, both including this header). For element i of a call with (seed, offset, p):
//   k = (uint64)(offset + i + 1) * 0x9E3779B97F4A7C15          (mod 2^64)
//   h = splitmix64((uint64)seed ^ k), where splitmix64(z) is the standard finalizer
//       z += 0x9E3779B97F4A7C15; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
//       z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31)
//   u = (float)(h >> 40) * 2^-24                                 (exact: 24 bits)
//   keep = (u >= p)                 mask[i] = keep ? 1 : 0
//   scale = (float)(1.0 / (1.0 - (double)p)) for p < 1, else 0     (computed in double, rounded once)
//   y[i] = keep ? x[i] * scale : 0  (one float multiply);  backward dx[i] = mask[i] ? dy[i] * scale : 0
// Each element depends only on (seed, offset + i), so the mask is the same for any thread count and
// a call at offset k continues the stream of a call at offset 0 from element k.
LW_HD uint64_t dropout_hash(uint64_t seed, uint64_t counter) {
  uint64_t z = seed ^ (counter * 0x9E3779B97F4A7C15ULL);
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

LW_HD float dropout_scale(float p) { return p < 1.0f ? static_cast<float>(1.0 / (1.0 - static_cast<double>(p))) : 0.0f; }

// Element i of a dropout call: keep (u >= p) from the hash of (seed, offset + i).
LW_HD bool dropout_keep(uint64_t seed, uint64_t counter, float p) {
  const uint64_t h = dropout_hash(seed, counter);
  const float u = static_cast<float>(static_cast<int32_t>(h >> 40)) * 0x1p-24f;
  return u >= p;
}

// ---- per-element activation math (native/cpu/activation.cc, native/cuda/activation*.cu) ----

// keep ? v : 0 without a branch. For 16-bit storage on the bits (zero is all-zero bits), so the
// loop vectorizes and the value is never rounded.
LW_HD float keep_or_zero(bool keep, float v) { return select_f32(keep, v, 0.0f); }
LW_HD bf16 keep_or_zero(bool keep, bf16 v) {
  return bf16{static_cast<uint16_t>(v.bits & static_cast<uint16_t>(0u - static_cast<uint16_t>(keep)))};
}
LW_HD f16 keep_or_zero(bool keep, f16 v) {
  return f16{static_cast<uint16_t>(v.bits & static_cast<uint16_t>(0u - static_cast<uint16_t>(keep)))};
}

// ReLU keeps x unless x < 0 (NaN passes through); its backward keeps dy where y > 0 (PyTorch's
// threshold_backward: zero where y <= 0).
LW_HD bool relu_keep(float x) { return !(x < 0.0f); }
LW_HD bool relu_grad_keep(float y) { return !(y <= 0.0f); }

// GELU, erf form: x Phi(x); its derivative Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi).
LW_HD float gelu_value(float x) { return x * normal_cdf(x); }
LW_HD float gelu_grad(float x) {
  const float pdf = 0.39894228040143268f * exp_f32(-0.5f * x * x);
  return fmaf(x, pdf, normal_cdf(x));
}

// Softmax backward, one element: y * (dy - sum_j dy_j y_j), the row's sum rounded to float.
LW_HD float softmax_grad(float y, float dy, float row_dot) { return y * (dy - row_dot); }

// Inverted dropout (and drop path), one element: keep ? x * scale : 0 with one float multiply.
LW_HD float dropout_value(bool keep, float x, float scale) { return select_f32(keep, x * scale, 0.0f); }
// Drop path multiplies a whole sample by one factor (so a dropped NaN sample stays NaN, as timm).
LW_HD float drop_path_factor(bool keep, float scale) { return keep ? scale : 0.0f; }

}  // namespace layerwise::shared
