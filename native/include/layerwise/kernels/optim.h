// kernels/optim.h: the optim kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- optim.cc ---- (fused multi-tensor steps; formulas of torch.optim, docs/method.md section 4)
// Per tensor t: lr_t = lr * lr_scales[t] (lr_scales: eta_t, or whatever the optimizer needs; a device
// array so that a step needs no host data per tensor besides the fixed weight decays), wd_t =
// host_weight_decays[t]. float16 loss scaling is fused in (torch's fused optimizers' grad_scale /
// found_inf): when found_inf is given and found_inf[0] != 0 the step does nothing (no element is
// touched, as GradScaler skips the step); otherwise each gradient is read as g = grad * inv_scale
// (inv_scale = 1 when not scaling; the gradients themselves are left as they are).
// SGD: g = g + wd_t*w; b = g on the first step, else momentum*b + (1-dampening)*g;
// g = nesterov ? g + momentum*b : b; w -= lr_t*g.
Status sgd_step(Context& ctx,
                float* const* params,               // num_tensors buffers
                const float* const* grads,          // num_tensors buffers
                float* const* momentum_buffers,     // num_tensors buffers, or none if momentum == 0
                const float* lr_scales,             // (num_tensors)
                const float* found_inf,             // (1), or null
                const int64_t* host_numels,         // (num_tensors)
                const double* host_weight_decays,   // (num_tensors)
                int64_t num_tensors, double lr, double momentum, double dampening, bool nesterov,
                bool first_step, float inv_scale);
// AdamW (lr_t, found_inf and inv_scale as sgd_step): w *= 1 - lr_t*wd_t; m = b1*m + (1-b1)*g;
// v = b2*v + (1-b2)*g^2; w -= (lr_t / bias_correction1) * m / (sqrt(v) / sqrt(bias_correction2) + eps)
Status adamw_step(Context& ctx,
                  float* const* params,              // num_tensors buffers
                  const float* const* grads,         // num_tensors buffers
                  float* const* exp_avgs,            // num_tensors buffers
                  float* const* exp_avg_sqs,         // num_tensors buffers
                  const float* lr_scales,            // (num_tensors)
                  const float* found_inf,            // (1), or null
                  const int64_t* host_numels,        // (num_tensors)
                  const double* host_weight_decays,  // (num_tensors)
                  int64_t num_tensors, double lr, double beta1, double beta2, double eps,
                  double bias_correction1, double bias_correction2, float inv_scale);
// float16 loss scaling (optim_amp.cc), torch.amp.GradScaler's unscale: g *= inv_scale for every element,
// found_inf[0] = 1 when any element (before scaling) is NaN or infinite. found_inf is only ever set, never
// cleared, so one flag covers several calls; the host reads it once per optimizer step. inv_scale == 1
// only checks (no element is written): the check before a step that unscales itself (sgd_step, adamw_step).
Status multi_unscale_found_inf(Context& ctx,
                               float* const* grads,         // num_tensors buffers
                               float* found_inf,            // (1)
                               const int64_t* host_numels,  // (num_tensors)
                               int64_t num_tensors, float inv_scale);
// y_t = alpha_t * y_t + beta_t * x_t per tensor (optim_baselines.cc): NG and LARC rescaling, LAMB's update.
Status multi_axpby(Context& ctx,
                   float* const* ys,            // num_tensors buffers
                   const float* const* xs,      // num_tensors buffers
                   const int64_t* host_numels,  // (num_tensors)
                   const double* host_alphas,   // (num_tensors)
                   const double* host_betas,    // (num_tensors)
                   int64_t num_tensors);
// LAMB's update direction (optim_baselines.cc), written over the gradients: m and v as Adam
// (m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g^2), then r = (m/bc1) / (sqrt(v/bc2) + eps) + wd_t*w.
Status lamb_direction(Context& ctx,
                      float* const* grads,               // num_tensors buffers (r on return)
                      float* const* exp_avgs,            // num_tensors buffers
                      float* const* exp_avg_sqs,         // num_tensors buffers
                      const float* const* params,        // num_tensors buffers
                      const int64_t* host_numels,        // (num_tensors)
                      const double* host_weight_decays,  // (num_tensors)
                      int64_t num_tensors, double beta1, double beta2, double eps,
                      double bias_correction1, double bias_correction2);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
