// LayerNorm's scalar math, shared by the CPU and CUDA backends (LW_HD: __host__ __device__ under
// nvcc) for both layouts: LayerNorm over the last dimension (norm.cc / norm.cu) and timm's
// LayerNorm2d over the channels of NCHW (norm_channels.cc / norm.cu). Biased variance as
// torch.nn.LayerNorm; the backward is PyTorch's layer_norm_backward:
//   forward   mean = sum(x) / c,  rstd = 1 / sqrt(sum((x - mean)^2) / c + eps)  (sums in double)
//             y = (x * rstd - mean * rstd) * gamma + beta                     (float, two fma)
//   backward  xhat = (x - mean) * rstd,  g = dy * gamma,
//             dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
//             dgamma = sum over positions of dy * xhat,  dbeta = sum of dy.
#pragma once
#include <cmath>
#include <cstdint>

#include "layerwise/dtype.h"

namespace layerwise::shared {

// The per-row affine map of the forward: y = fma(fma(x, a, b), gamma, beta) with a = rstd and
// b = -mean * rstd; mean and rstd (float) are what the forward saves for the backward.
struct LayerNormCoeffs {
  float mean, rstd, a, b;
};

// From the row's mean and its sum of centered squares (both double) over count values.
LW_HD LayerNormCoeffs layernorm_coeffs(double mean, double centered_squares, int64_t count, float eps) {
  const double rstd = 1.0 / sqrt(centered_squares / static_cast<double>(count) + static_cast<double>(eps));
  LayerNormCoeffs k;
  k.mean = static_cast<float>(mean);
  k.rstd = static_cast<float>(rstd);
  k.a = static_cast<float>(rstd);
  k.b = static_cast<float>(-mean * rstd);
  return k;
}

LW_HD float layernorm_apply(float x, float a, float b, float gamma, float beta) {
  return fmaf(fmaf(x, a, b), gamma, beta);
}

// xhat of the backward, from the saved statistics.
LW_HD float layernorm_xhat(float x, float mean, float rstd) { return (x - mean) * rstd; }

// dx of one value: m1 = mean(dy * gamma), m2 = mean(dy * gamma * xhat) over its row (float).
LW_HD float layernorm_dx(float dy, float gamma, float xhat, float rstd, float m1, float m2) {
  return rstd * (dy * gamma - m1 - xhat * m2);
}

}  // namespace layerwise::shared
