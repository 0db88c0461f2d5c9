// CPU multi-tensor kernels of the paper's baselines (docs/method.md section 5): multi_axpby rescales
// gradients per tensor (SGD-NG / Adam-NG: g / max(||g||, eps); LARC: a * (g + wd * w)) and applies
// LAMB's trust-ratio step; lamb_direction computes LAMB's Adam-style direction in place of the
// gradient. One static OpenMP loop over the 65,536-element chunks of all tensors (multi_tensor.h);
// the per-element math is native/shared/optim_math.h's (the CUDA backend runs the same functions).
#include <cmath>

#include "cpu/context.h"
#include "cpu/multi_tensor.h"
#include "shared/optim_math.h"

namespace layerwise::cpu {

Status multi_axpby(Context& ctx, float* const* ys, const float* const* xs, const int64_t* host_numels,
                   const double* host_alphas, const double* host_betas, int64_t num_tensors) {
  Chunks chunks;
  LW_RETURN_IF_ERROR(make_chunks("multi_axpby", chunks, host_numels, num_tensors));
  const int64_t total = chunks.count();
#pragma omp parallel for schedule(static) if (total > 1)
  for (int64_t c = 0; c < total; c++) {
    const auto [t, start, len] = chunks.piece(c, host_numels);
    const float alpha = static_cast<float>(host_alphas[t]);
    const float beta = static_cast<float>(host_betas[t]);
    float* y = ys[t] + start;        // (len)
    const float* x = xs[t] + start;  // (len)
    if (beta == 0.0f) {
#pragma omp simd
      for (int64_t i = 0; i < len; i++) y[i] = shared::scale_element(y[i], alpha);
    } else {
#pragma omp simd
      for (int64_t i = 0; i < len; i++) y[i] = shared::axpby_element(y[i], x[i], alpha, beta);
    }
  }
  return Status::Ok();
}

Status lamb_direction(Context& ctx, float* const* grads, float* const* exp_avgs, float* const* exp_avg_sqs,
                      const float* const* params, const int64_t* host_numels, const double* host_weight_decays,
                      int64_t num_tensors, double beta1, double beta2, double eps, double bias_correction1,
                      double bias_correction2) {
  const char* op = "lamb_direction";
  Chunks chunks;
  LW_RETURN_IF_ERROR(make_chunks(op, chunks, host_numels, num_tensors));
  if (!(bias_correction1 > 0.0 && bias_correction2 > 0.0))
    return Status::Invalid(op, "bias corrections must be positive (bias_correction1=" + std::to_string(bias_correction1) +
                                   ", bias_correction2=" + std::to_string(bias_correction2) + ")");
  const shared::LambScalars s = shared::lamb_scalars(beta1, beta2, eps, bias_correction1, bias_correction2);
  const int64_t total = chunks.count();
#pragma omp parallel for schedule(static) if (total > 1)
  for (int64_t c = 0; c < total; c++) {
    const auto [t, start, len] = chunks.piece(c, host_numels);
    const float wd = static_cast<float>(host_weight_decays[t]);
    float* g = grads[t] + start;           // (len)
    float* m = exp_avgs[t] + start;        // (len)
    float* v = exp_avg_sqs[t] + start;     // (len)
    const float* w = params[t] + start;    // (len)
    for (int64_t i = 0; i < len; i++) g[i] = shared::lamb_element(g[i], m[i], v[i], w[i], wd, s);
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
