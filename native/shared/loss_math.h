// Loss math shared by the CPU and CUDA backends (LW_HD: __host__ __device__ under nvcc): the
// per-element pieces of the fused log-softmax + cross-entropy (native/cpu/loss.cc,
// native/cuda/loss.cu) and the ranking rule of classification_counts. Written once so that the
// CPU tests cover the arithmetic the GPU kernels run. The log-sum-exp subtracts the row max (a
// float) and accumulates exp in double; log-probabilities and losses are rounded to float once.
// Reference: torch.nn.CrossEntropyLoss(reduction='none'), torch.nn.functional.log_softmax.
#pragma once
#include <cmath>
#include <cstdint>

#include "layerwise/dtype.h"
#include "shared/reduce_math.h"

namespace layerwise::shared {

// exp(z - m) in double: one term of the row's sum (m is the row max).
LW_HD double lse_term(float z, float m) { return exp(static_cast<double>(z) - static_cast<double>(m)); }
// log-sum-exp of the row from its max and the sum of lse_term.
LW_HD double lse_value(float m, double sum) { return static_cast<double>(m) + log(sum); }
// log_softmax(z)[k] = z[k] - lse, rounded to float.
LW_HD float log_prob(float z, double lse) { return static_cast<float>(static_cast<double>(z) - lse); }
// -log_softmax(z)[label] = lse - z[label].
LW_HD float ce_loss(double lse, float z_label) { return static_cast<float>(lse - static_cast<double>(z_label)); }
// One term of the soft-target loss -sum_k t[k] * (z[k] - lse) (the caller negates the sum).
LW_HD double soft_ce_term(float t, float z, double lse) {
  return static_cast<double>(t) * (static_cast<double>(z) - lse);
}

// dlogits[k] = g * (softmax[k] - onehot[k]) from the stored log-probability, in double.
LW_HD float ce_grad(double g, float lp, bool is_label) {
  const double p = exp(static_cast<double>(lp));
  return static_cast<float>(g * (is_label ? p - 1.0 : p));
}
// dlogits[k] = g * (softmax[k] * sum_j t[j] - t[k]).
LW_HD float soft_ce_grad(double g, float lp, float t, double tsum) {
  return static_cast<float>(g * (exp(static_cast<double>(lp)) * tsum - static_cast<double>(t)));
}

// classification_counts: class c ranks above the label when its logit is greater, or equal with a
// lower class index (so ties never favour the label).
LW_HD bool ranks_above(float v, float target, int64_t c, int64_t label) {
  return v > target || (v == target && c < label);
}

}  // namespace layerwise::shared
