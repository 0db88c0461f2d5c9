// CPU full reductions to a scalar (sum, sum of |x|, sum of squares) and the probe's per-tensor
// mean |gradient| over many tensors in one call. Accumulation is in double over fixed blocks of
// kBlock elements (in parallel), then the block sums are added in order on one thread: the result
// is the same for every thread count. Single-tensor reductions read float32, bfloat16 or float16;
// accumulate_loss keeps a device-side running loss sum and the first non-finite step.
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "cpu/context.h"
#include "shared/reduce_math.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kBlock = 1 << 15;

using Term = shared::ReduceTerm;

template <Term term, typename T>
inline double block_sum(const T* x, int64_t len) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < len; i++) s += shared::reduce_term<term>(to_f32(x[i]));
  return s;
}

Status out_of_memory(const char* op, int64_t count) {
  return Status::Error(StatusCode::kOutOfMemory, op, "no memory for " + std::to_string(count) + " partial sums");
}

template <Term term, typename T>
Status reduce_scalar(const char* op, float* out,  // (1)
                     const T* x,                  // (n)
                     int64_t n, double scale) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"n", n}}));
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial;
  try {
    partial.resize(static_cast<size_t>(blocks));
  } catch (const std::bad_alloc&) {
    return out_of_memory(op, blocks);
  }
  double* p = partial.data();  // (blocks)
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; b++) {
    const int64_t start = b * kBlock;
    p[b] = block_sum<term>(x + start, n - start < kBlock ? n - start : kBlock);
  }
  double total = 0.0;
  for (int64_t b = 0; b < blocks; b++) total += p[b];
  out[0] = static_cast<float>(total * scale);
  return Status::Ok();
}

template <Term term>
Status reduce_typed(const char* op, float* out, const void* x, DType dtype, int64_t n, double scale) {
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return reduce_scalar<term>(op, out, static_cast<const T*>(x), n, scale);
  });
}

}  // namespace

Status reduce_sum(Context& ctx, float* out, const void* x, DType dtype, int64_t n, double scale) {
  return reduce_typed<Term::kValue>("reduce_sum", out, x, dtype, n, scale);
}

Status reduce_abs_sum(Context& ctx, float* out, const void* x, DType dtype, int64_t n, double scale) {
  return reduce_typed<Term::kAbs>("reduce_abs_sum", out, x, dtype, n, scale);
}

Status reduce_sum_squares(Context& ctx, float* out, const void* x, DType dtype, int64_t n, double scale) {
  return reduce_typed<Term::kSquare>("reduce_sum_squares", out, x, dtype, n, scale);
}

Status accumulate_loss(Context& ctx, float* sum, int32_t* first_bad_step, const float* loss, int64_t step) {
  const float v = loss[0];
  sum[0] += v;
  if (!shared::finite_f32(v) && first_bad_step[0] < 0) first_bad_step[0] = static_cast<int32_t>(step);
  return Status::Ok();
}

namespace {

// One parallel loop over the blocks of all tensors (tensor t owns blocks first[t] .. first[t+1]-1).
template <Term term>
Status multi_reduce(const char* op, float* out, const float* const* xs, const int64_t* host_numels,
                    const double* host_scales, int64_t num_tensors) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"num_tensors", num_tensors}}));
  std::vector<int64_t> first;
  std::vector<double> partial;
  try {
    first.resize(static_cast<size_t>(num_tensors + 1));
    first[0] = 0;
    for (int64_t t = 0; t < num_tensors; t++) {
      if (host_numels[t] < 0)
        return Status::Invalid(op, "numels[" + std::to_string(t) + "] is negative (" + std::to_string(host_numels[t]) + ")");
      first[t + 1] = first[t] + (host_numels[t] + kBlock - 1) / kBlock;
    }
    partial.resize(static_cast<size_t>(first[num_tensors]));
  } catch (const std::bad_alloc&) {
    return out_of_memory(op, num_tensors);
  }
  const int64_t blocks = first[num_tensors];
  const int64_t* f = first.data();  // (num_tensors + 1)
  double* p = partial.data();       // (blocks)
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; b++) {
    // The tensor holding block b: the last t with first[t] <= b (binary search).
    int64_t lo = 0, hi = num_tensors - 1;
    while (lo < hi) {
      const int64_t mid = (lo + hi + 1) / 2;
      if (f[mid] <= b) lo = mid; else hi = mid - 1;
    }
    const int64_t start = (b - f[lo]) * kBlock;
    const int64_t len = host_numels[lo] - start < kBlock ? host_numels[lo] - start : kBlock;
    p[b] = block_sum<term>(xs[lo] + start, len);
  }
  for (int64_t t = 0; t < num_tensors; t++) {
    double total = 0.0;
    for (int64_t b = f[t]; b < f[t + 1]; b++) total += p[b];
    out[t] = static_cast<float>(total * host_scales[t]);
  }
  return Status::Ok();
}

}  // namespace

Status multi_reduce_abs_sum(Context& ctx, float* out, const float* const* xs, const int64_t* host_numels,
                            const double* host_scales, int64_t num_tensors) {
  return multi_reduce<Term::kAbs>("multi_reduce_abs_sum", out, xs, host_numels, host_scales, num_tensors);
}

Status multi_reduce_sum_squares(Context& ctx, float* out, const float* const* xs, const int64_t* host_numels,
                                const double* host_scales, int64_t num_tensors) {
  return multi_reduce<Term::kSquare>("multi_reduce_sum_squares", out, xs, host_numels, host_scales, num_tensors);
}

}  // namespace layerwise::cpu
