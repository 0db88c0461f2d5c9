// CPU activations: ReLU, GELU (erf form), row-wise softmax and inverted dropout, forward and
// backward. GELU and softmax use a vectorizable exp (below) instead of libm so that their loops
// compile to AVX2; dropout's mask is a counter-based hash that every backend reproduces bit for bit.
// References: torch.nn.ReLU, torch.nn.GELU(approximate='none'), torch.nn.Softmax(dim=-1),
// torch.nn.Dropout (https://pytorch.org/docs/stable/nn.html).
#include <cmath>
#include <cstring>

#include "cpu/context.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

// c ? a : b on the bits. GCC (with trapping math, the default) will not if-convert a `?:` whose
// arm holds arithmetic, which blocks vectorization; this select always vectorizes.
inline float select_f32(bool c, float a, float b) {
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
inline float exp_f32(float x) {
  const float lo = -87.0f;
  float xc = select_f32(x > lo, x, lo);  // NaN -> lo here; restored at the end
  xc = select_f32(xc < 88.0f, xc, 88.0f);
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln2)
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p, r * r, r + 1.0f);
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float e = p * scale;
  return select_f32(x != x, x, select_f32(x < lo, 0.0f, e));
}

// erfc(z) for z >= 0 with relative error < 1.2e-7 (Numerical Recipes 6.2, erfcc: a Chebyshev fit
// of erfc(z) * exp(z^2) in t = 1 / (1 + z/2)). Relative accuracy in the tail keeps Phi(x) accurate
// for negative x, where 1 - Phi would cancel.
inline float erfc_nonneg(float z) {
  const float t = 1.0f / std::fma(0.5f, z, 1.0f);
  float p = 0.17087277f;
  p = std::fma(p, t, -0.82215223f);
  p = std::fma(p, t, 1.48851587f);
  p = std::fma(p, t, -1.13520398f);
  p = std::fma(p, t, 0.27886807f);
  p = std::fma(p, t, -0.18628806f);
  p = std::fma(p, t, 0.09678418f);
  p = std::fma(p, t, 0.37409196f);
  p = std::fma(p, t, 1.00002368f);
  p = std::fma(p, t, -1.26551223f);
  return t * exp_f32(p - z * z);
}

// Standard normal CDF Phi(x) = 1/2 + erf(x / sqrt(2)) / 2, to about 1 ulp. |x| < 1.25: the
// Taylor series of erf(z) / z in z^2 (13 terms, well conditioned there); elsewhere
// erfc(|x| / sqrt(2)) / 2 or its complement (a float evaluation of the erfc fit alone loses ~3 ulp
// near 0 to cancellation in its polynomial). Both are computed and one selected, to vectorize.
inline float normal_cdf(float x) {
  const float z = x * 0.70710678118654752f;
  const float z2 = z * z;
  float q = 9.422759064650411e-11f;  // (2/sqrt(pi)) (-1)^k / (k! (2k+1)), k = 12 .. 0
  q = std::fma(q, z2, -1.2290555301717926e-09f);
  q = std::fma(q, z2, 1.4807192815879218e-08f);
  q = std::fma(q, z2, -1.6365844691234924e-07f);
  q = std::fma(q, z2, 1.6462114365889246e-06f);
  q = std::fma(q, z2, -1.492565035840625e-05f);
  q = std::fma(q, z2, 0.00012055332981789664f);
  q = std::fma(q, z2, -0.0008548327023450852f);
  q = std::fma(q, z2, 0.005223977625442188f);
  q = std::fma(q, z2, -0.026866170645131252f);
  q = std::fma(q, z2, 0.11283791670955126f);
  q = std::fma(q, z2, -0.37612638903183754f);
  q = std::fma(q, z2, 1.1283791670955126f);
  const float central = std::fma(0.5f * z, q, 0.5f);
  const float h = 0.5f * erfc_nonneg(std::fabs(z));
  const float tail = select_f32(x >= 0.0f, 1.0f - h, h);
  return select_f32(std::fabs(x) < 1.25f, central, tail);
}

// The dropout hash (the contract every backend implements identically, here and in
// native/cuda/activation.cu). For element i of a call with (seed, offset, p):
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
inline uint64_t dropout_hash(uint64_t seed, uint64_t counter) {
  uint64_t z = seed ^ (counter * 0x9E3779B97F4A7C15ULL);
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

float dropout_scale(float p) { return p < 1.0f ? static_cast<float>(1.0 / (1.0 - static_cast<double>(p))) : 0.0f; }

Status check_probability(const char* op, float p, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"n", n}}));
  if (!(p >= 0.0f && p <= 1.0f))
    return Status::Invalid(op, "p must be in [0, 1], got " + std::to_string(p) + " (n=" + std::to_string(n) + ")");
  return Status::Ok();
}

}  // namespace

Status relu_forward(Context& ctx, float* y, const float* x, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("relu_forward", {{"n", n}}));
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN passes through
  return Status::Ok();
}

Status relu_backward(Context& ctx, float* dx, const float* dy, const float* y, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("relu_backward", {{"n", n}}));
  // As PyTorch's threshold_backward: zero where y <= 0.
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) dx[i] = y[i] <= 0.0f ? 0.0f : dy[i];
  return Status::Ok();
}

Status gelu_forward(Context& ctx, float* y, const float* x, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("gelu_forward", {{"n", n}}));
#pragma omp parallel for simd schedule(static) if (n > kParallelMin / 8)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * normal_cdf(x[i]);
  return Status::Ok();
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi).
Status gelu_backward(Context& ctx, float* dx, const float* dy, const float* x, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("gelu_backward", {{"n", n}}));
#pragma omp parallel for simd schedule(static) if (n > kParallelMin / 8)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const float pdf = 0.39894228040143268f * exp_f32(-0.5f * v * v);
    dx[i] = dy[i] * std::fma(v, pdf, normal_cdf(v));
  }
  return Status::Ok();
}

// y = exp(x - max) / sum exp(x - max) per row; the sum accumulates in double.
Status softmax_forward(Context& ctx, float* y, const float* x, int64_t rows, int64_t cols) {
  LW_RETURN_IF_ERROR(check_sizes("softmax_forward", {{"rows", rows}, {"cols", cols}}));
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin / 4)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;  // (cols)
    float* yr = y + r * cols;        // (cols)
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < cols; j++) m = xr[j] > m ? xr[j] : m;
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; j++) {
      const float e = exp_f32(xr[j] - m);
      yr[j] = e;
      s += static_cast<double>(e);
    }
    const float inv = static_cast<float>(1.0 / s);
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
  }
  return Status::Ok();
}

// dx = y * (dy - sum_j dy_j y_j) per row.
Status softmax_backward(Context& ctx, float* dx, const float* dy, const float* y, int64_t rows, int64_t cols) {
  LW_RETURN_IF_ERROR(check_sizes("softmax_backward", {{"rows", rows}, {"cols", cols}}));
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* dyr = dy + r * cols;  // (cols)
    const float* yr = y + r * cols;    // (cols)
    float* dxr = dx + r * cols;        // (cols)
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; j++) s += static_cast<double>(dyr[j]) * static_cast<double>(yr[j]);
    const float sf = static_cast<float>(s);
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) dxr[j] = yr[j] * (dyr[j] - sf);
  }
  return Status::Ok();
}

Status dropout_forward(Context& ctx, float* y, uint8_t* mask, const float* x, int64_t n, float p, int64_t seed,
                       int64_t offset) {
  LW_RETURN_IF_ERROR(check_probability("dropout_forward", p, n));
  const float scale = dropout_scale(p);
  const uint64_t s = static_cast<uint64_t>(seed);
  const uint64_t base = static_cast<uint64_t>(offset) + 1;
#pragma omp parallel for simd schedule(static) if (n > kParallelMin / 4)
  for (int64_t i = 0; i < n; i++) {
    const uint64_t h = dropout_hash(s, base + static_cast<uint64_t>(i));
    const float u = static_cast<float>(static_cast<int32_t>(h >> 40)) * 0x1p-24f;
    const bool keep = u >= p;
    mask[i] = keep ? 1 : 0;
    y[i] = select_f32(keep, x[i] * scale, 0.0f);
  }
  return Status::Ok();
}

Status dropout_backward(Context& ctx, float* dx, const float* dy, const uint8_t* mask, int64_t n, float p) {
  LW_RETURN_IF_ERROR(check_probability("dropout_backward", p, n));
  const float scale = dropout_scale(p);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) dx[i] = select_f32(mask[i] != 0, dy[i] * scale, 0.0f);
  return Status::Ok();
}

}  // namespace layerwise::cpu
