// CPU losses: cross-entropy fused with log-softmax, for integer labels and for soft targets
// (mixup, label smoothing). Per-row losses; the batch mean is a reduce. log-sum-exp subtracts the
// row max and accumulates in double. References: torch.nn.CrossEntropyLoss(reduction='none'),
// torch.nn.functional.log_softmax (https://pytorch.org/docs/stable/nn.html).
// Logits and dlogits are float32, bfloat16 or float16 (layerwise/dtype.h), read as float; the
// log-probabilities stay float32 (autocast's float32 list: the loss is computed in float).
// classification_counts ranks each row's label as src/train/evaluate.ts did on the host.
#include <cmath>
#include <string>

#include "cpu/context.h"
#include "shared/loss_math.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

// Writes log_probs[r] = logits[r] - logsumexp(logits[r]) and returns the log-sum-exp.
template <typename T>
inline double log_softmax_row(float* lp,     // (classes)
                              const T* z,    // (classes)
                              int64_t classes) {
  float m = -INFINITY;
  for (int64_t k = 0; k < classes; k++) {
    const float v = to_f32(z[k]);
    m = v > m ? v : m;
  }
  double s = 0.0;
  for (int64_t k = 0; k < classes; k++) s += shared::lse_term(to_f32(z[k]), m);
  const double lse = shared::lse_value(m, s);
  for (int64_t k = 0; k < classes; k++) lp[k] = shared::log_prob(to_f32(z[k]), lse);
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

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status cross_entropy_forward(Context& ctx, float* losses, float* log_probs, const void* logits,
                             const int32_t* labels, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "cross_entropy_forward";
  LW_RETURN_IF_ERROR(check_labels(op, labels, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* zt = LW_CTYPED(logits);
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* z = zt + r * classes;
      const double lse = log_softmax_row(log_probs + r * classes, z, classes);
      losses[r] = shared::ce_loss(lse, to_f32(z[labels[r]]));
    }
    return Status::Ok();
  });
}

Status cross_entropy_backward(Context& ctx, void* dlogits, const float* dlosses, const float* log_probs,
                              const int32_t* labels, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "cross_entropy_backward";
  LW_RETURN_IF_ERROR(check_labels(op, labels, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    T* dt = LW_TYPED(dlogits);
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const float* lp = log_probs + r * classes;  // (classes)
      T* d = dt + r * classes;                    // (classes)
      const double g = dlosses[r];
      for (int64_t k = 0; k < classes; k++) d[k] = from_f32<T>(shared::ce_grad(g, lp[k], k == labels[r]));
    }
    return Status::Ok();
  });
}

Status soft_cross_entropy_forward(Context& ctx, float* losses, float* log_probs, const void* logits,
                                  const float* targets, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "soft_cross_entropy_forward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"rows", rows}, {"classes", classes}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* zt = LW_CTYPED(logits);
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* z = zt + r * classes;           // (classes)
      const float* t = targets + r * classes;  // (classes)
      const double lse = log_softmax_row(log_probs + r * classes, z, classes);
      double loss = 0.0;
      for (int64_t k = 0; k < classes; k++) loss -= shared::soft_ce_term(t[k], to_f32(z[k]), lse);
      losses[r] = static_cast<float>(loss);
    }
    return Status::Ok();
  });
}

Status soft_cross_entropy_backward(Context& ctx, void* dlogits, const float* dlosses, const float* log_probs,
                                   const float* targets, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "soft_cross_entropy_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"rows", rows}, {"classes", classes}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    T* dt = LW_TYPED(dlogits);
#pragma omp parallel for schedule(static) if (rows * classes > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const float* lp = log_probs + r * classes;  // (classes)
      const float* t = targets + r * classes;     // (classes)
      T* d = dt + r * classes;                    // (classes)
      double tsum = 0.0;
      for (int64_t k = 0; k < classes; k++) tsum += static_cast<double>(t[k]);
      const double g = dlosses[r];
      for (int64_t k = 0; k < classes; k++)
        d[k] = from_f32<T>(shared::soft_ce_grad(g, lp[k], t[k], tsum));
    }
    return Status::Ok();
  });
}

// Per row: non-finite if any logit is NaN or +-inf (wrong for both counts); otherwise the number of
// classes ranked above the label (greater, or equal with a lower index) decides top-1 (none) and
// top-k (fewer than k).
Status classification_counts(Context& ctx, int32_t* counts, const void* logits, const int32_t* labels, DType dtype,
                             int64_t rows, int64_t classes, int64_t k) {
  const char* op = "classification_counts";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"k", k}}));
  LW_RETURN_IF_ERROR(check_labels(op, labels, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* zt = LW_CTYPED(logits);
    int64_t top1 = 0, topk = 0, bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : top1, topk, bad) if (rows * classes > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* z = zt + r * classes;
      const int64_t label = labels[r];
      const float target = to_f32(z[label]);
      bool finite = true;
      int64_t greater = 0;
      for (int64_t c = 0; c < classes; c++) {
        const float v = to_f32(z[c]);
        finite = finite && shared::finite_f32(v);
        greater += shared::ranks_above(v, target, c, label) ? 1 : 0;
      }
      if (!finite) {
        bad++;
        continue;
      }
      top1 += greater == 0 ? 1 : 0;
      topk += greater < k ? 1 : 0;
    }
    counts[0] += static_cast<int32_t>(top1);
    counts[1] += static_cast<int32_t>(topk);
    counts[2] += static_cast<int32_t>(bad);
    return Status::Ok();
  });
}

#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cpu
