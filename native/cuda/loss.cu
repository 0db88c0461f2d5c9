// CUDA losses (kernels/loss.h): cross-entropy fused with log-softmax for integer labels and for
// soft targets, their backward, and the accuracy counts, as native/cpu/loss.cc. The per-element
// math is native/shared/loss_math.h, the CPU's functions: the row max in float, exp and the
// log-sum-exp in double, log-probabilities rounded to float once. A row of at most kWarpRowCols
// classes goes to one warp, a wider row to a block (reduce_block.h, fixed-order reductions).
// Labels live on the device, so they cannot be checked on the host without a synchronization:
// a row whose label is outside [0, classes) gets a NaN loss (forward) and NaN gradients
// (backward), which accumulate_loss's first_bad_step reports, and classification_counts counts
// such a row in counts[2] (wrong for top-1 and top-k) instead of failing. No cuDNN; references:
// torch.nn.CrossEntropyLoss(reduction='none'), torch.nn.functional.log_softmax; CUDA C++
// Programming Guide, "Warp Shuffle Functions" and "Atomic Functions" (the counts).
#include <cmath>

#include "cuda/context.h"
#include "cuda/reduce_block.h"
#include "shared/loss_math.h"

namespace layerwise::cuda {

namespace {

__device__ __forceinline__ bool label_ok(int32_t label, int64_t classes) { return label >= 0 && label < classes; }

// Writes lp = log_softmax(z) for the group's row and returns its log-sum-exp (every lane).
template <bool kWarp, typename T>
__device__ __forceinline__ double log_softmax_row(const RowGroup<kWarp>& g, float* lp, const T* z, int64_t classes,
                                                  float* smax, double* ssum) {
  float m = -INFINITY;
  for (int64_t k = g.lane; k < classes; k += g.size) {
    const float v = to_f32(z[k]);
    m = v > m ? v : m;
  }
  m = g.reduce(m, MaxOp{}, smax);
  double s = 0.0;
  for (int64_t k = g.lane; k < classes; k += g.size) s += shared::lse_term(to_f32(z[k]), m);
  s = g.reduce(s, SumOp{}, ssum);
  const double lse = shared::lse_value(m, s);
  for (int64_t k = g.lane; k < classes; k += g.size) lp[k] = shared::log_prob(to_f32(z[k]), lse);
  return lse;
}

template <typename T, bool kWarp>
__global__ void cross_entropy_forward_kernel(float* losses, float* log_probs, const T* logits, const int32_t* labels,
                                             int64_t rows, int64_t classes) {
  __shared__ float smax[32];
  __shared__ double ssum[32];
  const RowGroup<kWarp> g;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const T* z = logits + r * classes;
    const double lse = log_softmax_row(g, log_probs + r * classes, z, classes, smax, ssum);
    if (g.lane == 0) {
      const int32_t label = labels[r];
      losses[r] = label_ok(label, classes) ? shared::ce_loss(lse, to_f32(z[label])) : NAN;
    }
  }
}

template <typename T, bool kWarp>
__global__ void soft_cross_entropy_forward_kernel(float* losses, float* log_probs, const T* logits,
                                                  const float* targets, int64_t rows, int64_t classes) {
  __shared__ float smax[32];
  __shared__ double ssum[32];
  const RowGroup<kWarp> g;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const T* z = logits + r * classes;           // (classes)
    const float* t = targets + r * classes;  // (classes)
    const double lse = log_softmax_row(g, log_probs + r * classes, z, classes, smax, ssum);
    double loss = 0.0;
    for (int64_t k = g.lane; k < classes; k += g.size) loss -= shared::soft_ce_term(t[k], to_f32(z[k]), lse);
    loss = g.reduce(loss, SumOp{}, ssum);
    if (g.lane == 0) losses[r] = static_cast<float>(loss);
  }
}

template <typename T, bool kWarp>
__global__ void soft_cross_entropy_backward_kernel(T* dlogits, const float* dlosses, const float* log_probs,
                                                   const float* targets, int64_t rows, int64_t classes) {
  __shared__ double ssum[32];
  const RowGroup<kWarp> g;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const float* lp = log_probs + r * classes;  // (classes)
    const float* t = targets + r * classes;     // (classes)
    T* d = dlogits + r * classes;               // (classes)
    double tsum = 0.0;
    for (int64_t k = g.lane; k < classes; k += g.size) tsum += static_cast<double>(t[k]);
    tsum = g.reduce(tsum, SumOp{}, ssum);
    const double gr = dlosses[r];
    for (int64_t k = g.lane; k < classes; k += g.size) d[k] = from_f32<T>(shared::soft_ce_grad(gr, lp[k], t[k], tsum));
  }
}

// Element e = (r, k) of dlogits = dlosses[r] * (softmax - onehot), NaN for a row with a bad label.
template <typename T>
struct CrossEntropyBackward {
  T* dlogits;
  const float* dlosses;
  const float* log_probs;
  const int32_t* labels;
  int64_t classes;
  __device__ void operator()(int64_t e) const {
    const int64_t r = e / classes;
    const int64_t k = e - r * classes;
    const int32_t label = labels[r];
    const float v = label_ok(label, classes) ? shared::ce_grad(dlosses[r], log_probs[e], k == label) : NAN;
    dlogits[e] = from_f32<T>(v);
  }
};

// Per row: non-finite logits make it bad; otherwise the classes ranked above the label decide top-1
// and top-k. Each group adds its rows' counts to counts[] once, at the end.
template <typename T, bool kWarp>
__global__ void classification_counts_kernel(int32_t* counts, const T* logits, const int32_t* labels, int64_t rows,
                                             int64_t classes, int64_t k) {
  __shared__ int sfinite[32];
  __shared__ long long sgreater[32];
  const RowGroup<kWarp> g;
  int top1 = 0, topk = 0, bad = 0;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const T* z = logits + r * classes;
    const int32_t label = labels[r];
    if (!label_ok(label, classes)) {  // uniform over the group: no reduction skipped by some lanes only
      bad++;
      continue;
    }
    const float target = to_f32(z[label]);
    int finite = 1;
    long long greater = 0;
    for (int64_t c = g.lane; c < classes; c += g.size) {
      const float v = to_f32(z[c]);
      finite &= shared::finite_f32(v) ? 1 : 0;
      greater += shared::ranks_above(v, target, c, label) ? 1 : 0;
    }
    finite = g.reduce(finite, MinOp{}, sfinite);
    greater = g.reduce(greater, SumOp{}, sgreater);
    if (!finite) {
      bad++;
      continue;
    }
    top1 += greater == 0 ? 1 : 0;
    topk += greater < k ? 1 : 0;
  }
  if (g.lane == 0) {
    if (top1 != 0) atomicAdd(counts + 0, top1);
    if (topk != 0) atomicAdd(counts + 1, topk);
    if (bad != 0) atomicAdd(counts + 2, bad);
  }
}

// Launches kernel<T, warp> for `rows` rows: one warp per row up to kWarpRowCols classes.
#define LW_ROW_LAUNCH(kernel, T, rows, classes, ...)                                                    \
  do {                                                                                                  \
    if ((classes) <= kWarpRowCols) {                                                                    \
      kernel<T, true><<<row_blocks((rows), true), kRowThreads, 0, ctx.stream>>>(__VA_ARGS__);          \
    } else {                                                                                            \
      kernel<T, false><<<row_blocks((rows), false), kRowThreads, 0, ctx.stream>>>(__VA_ARGS__);        \
    }                                                                                                   \
  } while (0)

Status check_rows(const char* op, int64_t rows, int64_t classes) {
  return check_sizes(op, {{"rows", rows}, {"classes", classes}});
}

}  // namespace

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status cross_entropy_forward(Context& ctx, float* losses, float* log_probs, const void* logits,
                             const int32_t* labels, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "cross_entropy_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_rows(op, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (rows == 0) return Status::Ok();
    LW_ROW_LAUNCH(cross_entropy_forward_kernel, T, rows, classes, losses, log_probs, LW_CTYPED(logits), labels, rows, classes);
    return check_launch(ctx, op);
  });
}

Status cross_entropy_backward(Context& ctx, void* dlogits, const float* dlosses, const float* log_probs,
                              const int32_t* labels, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "cross_entropy_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_rows(op, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, rows * classes, CrossEntropyBackward<T>{LW_TYPED(dlogits), dlosses, log_probs, labels, classes});
  });
}

Status soft_cross_entropy_forward(Context& ctx, float* losses, float* log_probs, const void* logits,
                                  const float* targets, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "soft_cross_entropy_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_rows(op, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (rows == 0) return Status::Ok();
    LW_ROW_LAUNCH(soft_cross_entropy_forward_kernel, T, rows, classes, losses, log_probs, LW_CTYPED(logits), targets, rows, classes);
    return check_launch(ctx, op);
  });
}

Status soft_cross_entropy_backward(Context& ctx, void* dlogits, const float* dlosses, const float* log_probs,
                                   const float* targets, DType dtype, int64_t rows, int64_t classes) {
  const char* op = "soft_cross_entropy_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_rows(op, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (rows == 0 || classes == 0) return Status::Ok();
    LW_ROW_LAUNCH(soft_cross_entropy_backward_kernel, T, rows, classes, LW_TYPED(dlogits), dlosses, log_probs, targets, rows, classes);
    return check_launch(ctx, op);
  });
}

Status classification_counts(Context& ctx, int32_t* counts, const void* logits, const int32_t* labels, DType dtype,
                             int64_t rows, int64_t classes, int64_t k) {
  const char* op = "classification_counts";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"k", k}}));
  LW_STATUS_TRY(check_rows(op, rows, classes));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (rows == 0) return Status::Ok();
    LW_ROW_LAUNCH(classification_counts_kernel, T, rows, classes, counts, LW_CTYPED(logits), labels, rows, classes, k);
    return check_launch(ctx, op);
  });
}

#undef LW_ROW_LAUNCH
#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cuda
