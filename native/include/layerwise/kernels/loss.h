// kernels/loss.h: the loss kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- loss.cc ---- (fused log-softmax + cross-entropy, per-row losses; the mean is a reduce. logits and
// dlogits in the kernel's dtype, computed in float/double; losses, log_probs, soft targets, dlosses float32.)
// losses[r] = -log_softmax(logits[r])[labels[r]]; a label outside [0, classes) is an error.
Status cross_entropy_forward(Context& ctx,
                             float* losses,          // (rows)
                             float* log_probs,       // (rows, classes)
                             const void* logits,     // (rows, classes) [dtype]
                             const int32_t* labels,  // (rows)
                             DType dtype, int64_t rows, int64_t classes);
// dlogits[r] = dlosses[r] * (softmax(logits[r]) - onehot(labels[r]))
Status cross_entropy_backward(Context& ctx,
                              void* dlogits,           // (rows, classes) [dtype]
                              const float* dlosses,    // (rows)
                              const float* log_probs,  // (rows, classes)
                              const int32_t* labels,   // (rows)
                              DType dtype, int64_t rows, int64_t classes);
// Soft targets (mixup, label smoothing): losses[r] = -sum_k targets[r, k] * log_softmax(logits[r])[k]
Status soft_cross_entropy_forward(Context& ctx,
                                  float* losses,         // (rows)
                                  float* log_probs,      // (rows, classes)
                                  const void* logits,    // (rows, classes) [dtype]
                                  const float* targets,  // (rows, classes)
                                  DType dtype, int64_t rows, int64_t classes);
// dlogits[r] = dlosses[r] * (softmax(logits[r]) * sum_k targets[r, k] - targets[r])
Status soft_cross_entropy_backward(Context& ctx,
                                   void* dlogits,           // (rows, classes) [dtype]
                                   const float* dlosses,    // (rows)
                                   const float* log_probs,  // (rows, classes)
                                   const float* targets,    // (rows, classes)
                                   DType dtype, int64_t rows, int64_t classes);
// Accuracy counts, ACCUMULATED (one buffer sums an evaluation): counts[0] += rows whose label has the
// largest logit, counts[1] += rows with the label among the k largest, counts[2] += rows with a NaN or
// +-inf logit (wrong for top-1 and top-k). A logit ranks above the label's when greater, or equal with
// a lower class index. A label outside [0, classes) is an error (counts unchanged).
Status classification_counts(Context& ctx,
                             int32_t* counts,        // (3)
                             const void* logits,     // (rows, classes) [dtype]
                             const int32_t* labels,  // (rows)
                             DType dtype, int64_t rows, int64_t classes, int64_t k);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
