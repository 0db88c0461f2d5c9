// BatchNorm2d math shared by the CPU (native/cpu/norm.cc) and CUDA (native/cuda/norm_batchnorm.cu)
// backends (LW_HD: __host__ __device__ under nvcc): the per-channel coefficients computed from the
// reduced sums, and the two per-element formulas. Written once so that the CPU tests cover the
// arithmetic the GPU kernels run; only the order of the sums differs between the backends.
// Conventions (PyTorch's batch_norm, https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html):
//   save_mean = batch mean, save_invstd = 1 / sqrt(biased batch variance + eps);
//   running_x = (1 - momentum) * running_x + momentum * batch_x, with the unbiased variance
//   (sum of squares / (count - 1)) for running_var.
#pragma once
#include <math.h>

#include "layerwise/dtype.h"

namespace layerwise::shared {

// y = x * a + b: the forward affine, with a = gamma * invstd and b = beta - mean * a.
LW_HD float bn_affine(float x, float a, float b) { return fmaf(x, a, b); }

// dx = (dy - mean_dy - (x - mean) * k) * w: the input gradient (mean_dy = k = 0 in eval mode).
LW_HD float bn_dx(float dy, float x, float mean_dy, float mean, float k, float w) {
  return (dy - mean_dy - (x - mean) * k) * w;
}

// Training forward, one channel: from the batch mean and the sum of squared deviations over
// count values, the saved statistics, the running-statistics update and the affine coefficients.
LW_HD void bn_train_channel(double mean, double sum_sq, double count, float momentum, float eps, float gamma,
                            float beta, float* save_mean, float* save_invstd, float* running_mean,
                            float* running_var, float* a, float* b) {
  const double var = sum_sq / count;  // biased: used to normalize
  const double unbiased = sum_sq / (count - 1.0);
  const double invstd = 1.0 / sqrt(var + static_cast<double>(eps));
  const double mom = momentum;
  *save_mean = static_cast<float>(mean);
  *save_invstd = static_cast<float>(invstd);
  *running_mean = static_cast<float>((1.0 - mom) * *running_mean + mom * mean);
  *running_var = static_cast<float>((1.0 - mom) * *running_var + mom * unbiased);
  const double av = static_cast<double>(gamma) * invstd;
  *a = static_cast<float>(av);
  *b = static_cast<float>(beta - mean * av);
}

// Evaluation forward, one channel: the affine coefficients from the running statistics.
LW_HD void bn_eval_channel(float gamma, float beta, float running_mean, float running_var, float eps, float* a,
                           float* b) {
  const double av = gamma / sqrt(static_cast<double>(running_var) + eps);
  *a = static_cast<float>(av);
  *b = static_cast<float>(beta - running_mean * av);
}

// Training backward, one channel, from sum_dy = sum dy and sum_dy_xmu = sum dy * (x - mean) over
// count values: dbeta, dgamma and the coefficients of bn_dx.
LW_HD void bn_backward_train_channel(double sum_dy, double sum_dy_xmu, double count, float invstd_f, float gamma,
                                     float* dgamma, float* dbeta, float* mean_dy, float* k, float* w) {
  const double invstd = invstd_f;
  *dbeta = static_cast<float>(sum_dy);
  *dgamma = static_cast<float>(sum_dy_xmu * invstd);
  *mean_dy = static_cast<float>(sum_dy / count);
  *k = static_cast<float>(sum_dy_xmu * invstd * invstd / count);
  *w = static_cast<float>(gamma * invstd);
}

// Evaluation backward, one channel (running statistics are constants): dbeta, dgamma and the
// bn_dx scale w = gamma / sqrt(running_var + eps), from the sums centered on running_mean.
LW_HD void bn_backward_eval_channel(double sum_dy, double sum_dy_xmu, float gamma, float running_var, float eps,
                                    float* dgamma, float* dbeta, float* w) {
  const double invstd = 1.0 / sqrt(static_cast<double>(running_var) + eps);
  *dbeta = static_cast<float>(sum_dy);
  *dgamma = static_cast<float>(sum_dy_xmu * invstd);
  *w = static_cast<float>(gamma * invstd);
}

}  // namespace layerwise::shared
