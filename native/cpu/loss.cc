// CPU losses: cross-entropy fused with log-softmax, for integer labels and for soft targets
// (mixup, label smoothing). Per-row losses; the batch mean is a reduce. log-sum-exp subtracts the
// row max and accumulates in double. References: torch.nn.CrossEntropyLoss(reduction='none'),
// torch.nn.functional.log_softmax (https://pytorch.org/docs/stable/nn.html).
#include <cmath>
#include <string>

#include "cpu/context.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

// Writes log_probs[r] = logits[r] - logsumexp(logits[r]) and returns the log-sum-exp.
inline double log_softmax_row(float* lp,        // (classes)
                              const float* z,   // (classes)
                              int64_t classes) {
  float m = -INFINITY;
  for (int64_t k = 0; k < classes; k++) m = z[k] > m ? z[k] : m;
  double s = 0.0;
  for (int64_t k = 0; k < classes; k++) s += std::exp(static_cast<double>(z[k]) - m);
  const double lse = static_cast<double>(m) + std::log(s);
  for (int64_t k = 0; k < classes; k++) lp[k] = static_cast<float>(static_cast<double>(z[k]) - lse);
  return lse;
}

// The first row whose label is outside [0, classes), as an error naming the row and the label.
Status check_labels(const char* op, const int32_t* labels, int64_t rows, int64_t classes) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"rows", rows}, {"classes", classes}}));
  for (int64_t r = 0; r < rows; r++) {
    if (labels[r] < 0 || labels[r] >= classes)
      return Status::Invalid(op, "label " + std::to_string(labels[r]) + " at row " + std::to_string(r) +
                                     " is outside [0, " + std::to_string(classes) + ") (rows=" +
                                     std::to_string(rows) + ", classes=" + std::to_string(classes) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status cross_entropy_forward(Context& ctx, float* losses, float* log_probs, const float* logits,
                             const int32_t* labels, int64_t rows, int64_t classes) {
  LW_RETURN_IF_ERROR(check_labels("cross_entropy_forward", labels, rows, classes));
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* z = logits + r * classes;
    const double lse = log_softmax_row(log_probs + r * classes, z, classes);
    losses[r] = static_cast<float>(lse - static_cast<double>(z[labels[r]]));
  }
  return Status::Ok();
}

Status cross_entropy_backward(Context& ctx, float* dlogits, const float* dlosses, const float* log_probs,
                              const int32_t* labels, int64_t rows, int64_t classes) {
  LW_RETURN_IF_ERROR(check_labels("cross_entropy_backward", labels, rows, classes));
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* lp = log_probs + r * classes;  // (classes)
    float* d = dlogits + r * classes;           // (classes)
    const double g = dlosses[r];
    for (int64_t k = 0; k < classes; k++) {
      const double p = std::exp(static_cast<double>(lp[k]));
      d[k] = static_cast<float>(g * (k == labels[r] ? p - 1.0 : p));
    }
  }
  return Status::Ok();
}

Status soft_cross_entropy_forward(Context& ctx, float* losses, float* log_probs, const float* logits,
                                  const float* targets, int64_t rows, int64_t classes) {
  LW_RETURN_IF_ERROR(check_sizes("soft_cross_entropy_forward", {{"rows", rows}, {"classes", classes}}));
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* z = logits + r * classes;   // (classes)
    const float* t = targets + r * classes;  // (classes)
    const double lse = log_softmax_row(log_probs + r * classes, z, classes);
    double loss = 0.0;
    for (int64_t k = 0; k < classes; k++) loss -= static_cast<double>(t[k]) * (static_cast<double>(z[k]) - lse);
    losses[r] = static_cast<float>(loss);
  }
  return Status::Ok();
}

Status soft_cross_entropy_backward(Context& ctx, float* dlogits, const float* dlosses, const float* log_probs,
                                   const float* targets, int64_t rows, int64_t classes) {
  LW_RETURN_IF_ERROR(check_sizes("soft_cross_entropy_backward", {{"rows", rows}, {"classes", classes}}));
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* lp = log_probs + r * classes;  // (classes)
    const float* t = targets + r * classes;     // (classes)
    float* d = dlogits + r * classes;           // (classes)
    double tsum = 0.0;
    for (int64_t k = 0; k < classes; k++) tsum += static_cast<double>(t[k]);
    const double g = dlosses[r];
    for (int64_t k = 0; k < classes; k++)
      d[k] = static_cast<float>(g * (std::exp(static_cast<double>(lp[k])) * tsum - static_cast<double>(t[k])));
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
