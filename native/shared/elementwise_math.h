// Elementwise math shared by the CPU and CUDA backends (LW_HD: __host__ __device__ under nvcc):
// the per-element formulas of native/cpu/elementwise.cc and native/cuda/elementwise.cu, written
// once so that the CPU tests cover the arithmetic the GPU kernels run. Values are float; the
// terms of the per-channel reductions are double (both backends accumulate them in double).
#pragma once
#include <cmath>

#include "layerwise/dtype.h"

namespace layerwise::shared {

// y = a + beta * b: torch.add(a, b, alpha=beta), which PyTorch evaluates as one fused multiply-add.
LW_HD float add_unit_alpha(float beta, float a, float b) { return fmaf(beta, b, a); }
// y = alpha * a + beta * b (alpha != 1), one rounding fewer than two products and a sum.
LW_HD float add_scaled(float alpha, float beta, float a, float b) { return fmaf(alpha, a, beta * b); }
LW_HD float mul_value(float a, float b) { return a * b; }
LW_HD float scale_value(float alpha, float x) { return alpha * x; }

// Per-channel broadcast y = x (+ or *) v[c]; the kind is a compile-time choice.
enum class ChannelOp { kAdd, kMul };
template <ChannelOp kind>
LW_HD float channel_value(float x, float v) {
  return kind == ChannelOp::kAdd ? x + v : x * v;
}

// Terms of the channel reductions: dbias[c] sums dy, dscale[c] sums dy * x, both in double.
LW_HD double channel_term(float a) { return static_cast<double>(a); }
LW_HD double channel_term(float a, float b) { return static_cast<double>(a) * static_cast<double>(b); }

}  // namespace layerwise::shared
