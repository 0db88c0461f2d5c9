// Reduction terms shared by the CPU and CUDA backends (LW_HD: __host__ __device__ under nvcc):
// the value each element adds to reduce_sum, reduce_abs_sum and reduce_sum_squares (and the
// multi-tensor versions), in double as both backends accumulate, and the finiteness test of
// accumulate_loss. Written once so that the CPU tests cover the GPU's arithmetic.
#pragma once
#include <cmath>

#include "layerwise/dtype.h"

namespace layerwise::shared {

enum class ReduceTerm { kValue, kAbs, kSquare };

template <ReduceTerm term>
LW_HD double reduce_term(float x) {
  const double v = static_cast<double>(x);
  return term == ReduceTerm::kValue ? v : (term == ReduceTerm::kAbs ? fabs(v) : v * v);
}

// Neither NaN nor +-inf (exponent bits not all ones); a bit test both compilers vectorize.
LW_HD bool finite_f32(float v) { return (float_bits(v) & 0x7f800000u) != 0x7f800000u; }

}  // namespace layerwise::shared
