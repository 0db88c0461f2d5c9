// CPU fused multi-tensor optimizer steps: SGD (momentum, dampening, Nesterov, weight decay) and
// AdamW, each updating every parameter tensor of the optimizer in one call with a per-tensor
// learning rate (lr times lr_scales[t]: the layer's eta) and weight decay, and float16 loss
// scaling fused in (skip on found_inf, g = grad * inv_scale). docs/method.md section 4.
//
// Numerics follow torch.optim.SGD / torch.optim.AdamW with foreach=False
// (https://pytorch.org/docs/stable/optim.html) operation by operation in float32; the per-element
// updates are native/shared/optim_math.h's (the CUDA backend runs the same functions), whose
// comments give the operation-by-operation correspondence. Checked bit for bit against torch 2.13
// on CPU for SGD and for AdamW's moments; AdamW's parameters can differ by an ulp where PyTorch's
// sqrt (MKL VML) is not correctly rounded and ours (vsqrtps) is.
//
// Work split: every tensor is cut into chunks of kChunk elements and one static OpenMP loop runs
// over the chunks of all tensors (as apex multi_tensor_apply on CUDA); each element is updated by
// a pure function of its own values, so results do not depend on the thread count.
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "cpu/context.h"
#include "cpu/multi_tensor.h"
#include "shared/optim_math.h"

namespace layerwise::cpu {

namespace {

using shared::AdamScalars;
using shared::SgdScalars;

// One chunk of SGD. The flags are template parameters so that every variant is a branch-free,
// vectorized loop over shared::sgd_element.
template <bool kDecay, bool kMomentum, bool kFirst, bool kNesterov>
void sgd_chunk(float* p,        // (len)
               const float* g,  // (len)
               float* buf,      // (len), unused without momentum
               int64_t len, SgdScalars s) {
  if constexpr (kMomentum) {
#pragma omp simd
    for (int64_t i = 0; i < len; i++) shared::sgd_element<kDecay, true, kFirst, kNesterov>(p[i], g[i], buf[i], s);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < len; i++) {
      float unused = 0.0f;
      shared::sgd_element<kDecay, false, false, false>(p[i], g[i], unused, s);
    }
  }
}

using SgdChunkFn = void (*)(float*, const float*, float*, int64_t, SgdScalars);

template <bool kDecay>
SgdChunkFn pick_sgd(bool momentum, bool first, bool nesterov) {
  if (!momentum) return sgd_chunk<kDecay, false, false, false>;
  if (first) return nesterov ? sgd_chunk<kDecay, true, true, true> : sgd_chunk<kDecay, true, true, false>;
  return nesterov ? sgd_chunk<kDecay, true, false, true> : sgd_chunk<kDecay, true, false, false>;
}

// One chunk of AdamW: shared::adamw_element per element.
template <bool kSmallWeight>
void adamw_chunk(float* p,        // (len)
                 const float* g,  // (len)
                 float* m,        // (len)
                 float* v,        // (len)
                 int64_t len, AdamScalars s) {
  int64_t i = 0;
#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
  // Eight lanes at a time: shared::adamw_element's operations, one for one (GCC will not vectorize
  // std::sqrt without -fno-math-errno), each the same correctly rounded one as in the scalar tail.
  const __m256 inv_scale = _mm256_set1_ps(s.inv_scale);
  const __m256 decay = _mm256_set1_ps(s.decay), coeff = _mm256_set1_ps(s.w_coeff);
  const __m256 beta2 = _mm256_set1_ps(s.beta2), c2 = _mm256_set1_ps(s.c2);
  const __m256 bc2_sqrt = _mm256_set1_ps(s.bc2_sqrt), eps = _mm256_set1_ps(s.eps);
  const __m256 neg_step = _mm256_set1_ps(s.neg_step);
  for (; i + 8 <= len; i += 8) {
    const __m256 gi = _mm256_mul_ps(_mm256_loadu_ps(g + i), inv_scale);
    const __m256 mo = _mm256_loadu_ps(m + i);
    __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), decay);
    shared::keep_rounded(pi);  // keep the rounded product: GCC would otherwise fuse it into the final add
    const __m256 mi = _mm256_fmadd_ps(coeff, _mm256_sub_ps(gi, mo), kSmallWeight ? mo : gi);
    const __m256 vi = _mm256_fmadd_ps(_mm256_mul_ps(c2, gi), gi, _mm256_mul_ps(_mm256_loadu_ps(v + i), beta2));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2_sqrt), eps);
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(p + i, _mm256_add_ps(pi, _mm256_div_ps(_mm256_mul_ps(neg_step, mi), denom)));
  }
#endif
  for (; i < len; i++) shared::adamw_element<kSmallWeight>(p[i], g[i], m[i], v[i], s);
}

bool skip_step(const float* found_inf) { return found_inf != nullptr && found_inf[0] != 0.0f; }

}  // namespace

Status sgd_step(Context& ctx, float* const* params, const float* const* grads, float* const* momentum_buffers,
                const float* lr_scales, const float* found_inf, const int64_t* host_numels,
                const double* host_weight_decays, int64_t num_tensors, double lr, double momentum, double dampening,
                bool nesterov, bool first_step, float inv_scale) {
  const char* op = "sgd_step";
  Chunks chunks;
  LW_RETURN_IF_ERROR(make_chunks(op, chunks, host_numels, num_tensors));
  const bool use_momentum = momentum != 0.0;
  if (use_momentum && num_tensors > 0 && momentum_buffers == nullptr)
    return Status::Invalid(op, "momentum=" + std::to_string(momentum) + " needs momentum_buffers (num_tensors=" +
                                   std::to_string(num_tensors) + ")");
  if (nesterov && (!use_momentum || dampening != 0.0))
    return Status::Invalid(op, "nesterov needs momentum > 0 and dampening = 0 (momentum=" + std::to_string(momentum) +
                                   ", dampening=" + std::to_string(dampening) + ")");
  if (skip_step(found_inf)) return Status::Ok();
  const int64_t total = chunks.count();
#pragma omp parallel for schedule(static) if (total > 1)
  for (int64_t c = 0; c < total; c++) {
    const auto [t, start, len] = chunks.piece(c, host_numels);
    const double wd = host_weight_decays[t];
    const SgdScalars s = shared::sgd_scalars(lr * static_cast<double>(lr_scales[t]), wd, momentum, dampening, inv_scale);
    const SgdChunkFn fn = wd != 0.0 ? pick_sgd<true>(use_momentum, first_step, nesterov)
                                    : pick_sgd<false>(use_momentum, first_step, nesterov);
    fn(params[t] + start, grads[t] + start, use_momentum ? momentum_buffers[t] + start : nullptr, len, s);
  }
  return Status::Ok();
}

Status adamw_step(Context& ctx, float* const* params, const float* const* grads, float* const* exp_avgs,
                  float* const* exp_avg_sqs, const float* lr_scales, const float* found_inf,
                  const int64_t* host_numels, const double* host_weight_decays, int64_t num_tensors, double lr,
                  double beta1, double beta2, double eps, double bias_correction1, double bias_correction2,
                  float inv_scale) {
  const char* op = "adamw_step";
  Chunks chunks;
  LW_RETURN_IF_ERROR(make_chunks(op, chunks, host_numels, num_tensors));
  if (!(bias_correction1 > 0.0 && bias_correction2 > 0.0))
    return Status::Invalid(op, "bias corrections must be positive (bias_correction1=" + std::to_string(bias_correction1) +
                                   ", bias_correction2=" + std::to_string(bias_correction2) + ")");
  if (skip_step(found_inf)) return Status::Ok();
  const bool small_weight = shared::adam_small_weight(beta1);
  const shared::AdamConstants k = shared::adam_constants(beta1, beta2, eps, bias_correction1, bias_correction2, inv_scale);
  const int64_t total = chunks.count();
#pragma omp parallel for schedule(static) if (total > 1)
  for (int64_t c = 0; c < total; c++) {
    const auto [t, start, len] = chunks.piece(c, host_numels);
    const AdamScalars s = shared::adam_scalars(k, lr * static_cast<double>(lr_scales[t]), host_weight_decays[t]);
    if (small_weight)
      adamw_chunk<true>(params[t] + start, grads[t] + start, exp_avgs[t] + start, exp_avg_sqs[t] + start, len, s);
    else
      adamw_chunk<false>(params[t] + start, grads[t] + start, exp_avgs[t] + start, exp_avg_sqs[t] + start, len, s);
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
