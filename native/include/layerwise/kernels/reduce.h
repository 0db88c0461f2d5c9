// kernels/reduce.h: the reduce kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- reduce.cc ---- (accumulated in double, written as float32; `scale` 1/n gives the mean)
Status reduce_sum(Context& ctx,
                  float* out,     // (1)
                  const void* x,  // (n) [dtype]
                  DType dtype, int64_t n, double scale);
Status reduce_abs_sum(Context& ctx,
                      float* out,     // (1)
                      const void* x,  // (n) [dtype]
                      DType dtype, int64_t n, double scale);
Status reduce_sum_squares(Context& ctx,
                          float* out,     // (1)
                          const void* x,  // (n) [dtype]
                          DType dtype, int64_t n, double scale);
// ACCUMULATES: sum[0] += loss[0]; if loss[0] is not finite and first_bad_step[0] < 0, first_bad_step[0]
// = step: losses summed on the device, the first NaN/inf step found without per-step reads (start 0, -1).
Status accumulate_loss(Context& ctx,
                       float* sum,               // (1)
                       int32_t* first_bad_step,  // (1)
                       const float* loss,        // (1)
                       int64_t step);
// out[t] = scale_t * sum |x_t| for each tensor t: the probe's per-tensor mean |gradient|.
Status multi_reduce_abs_sum(Context& ctx,
                            float* out,               // (num_tensors)
                            const float* const* xs,   // num_tensors buffers
                            const int64_t* host_numels,  // (num_tensors)
                            const double* host_scales,   // (num_tensors)
                            int64_t num_tensors);
// out[t] = scale_t * sum x_t^2 for each tensor t: per-tensor norms for NG, LARC and LAMB.
Status multi_reduce_sum_squares(Context& ctx,
                                float* out,                  // (num_tensors)
                                const float* const* xs,      // num_tensors buffers
                                const int64_t* host_numels,  // (num_tensors)
                                const double* host_scales,   // (num_tensors)
                                int64_t num_tensors);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
