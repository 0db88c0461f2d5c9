// CPU fused multi-tensor optimizer steps: SGD (momentum, dampening, Nesterov, weight decay) and
// AdamW, each updating every parameter tensor of the optimizer in one call with a per-tensor
// learning rate (the base lr times the layer's eta) and weight decay. docs/method.md section 4.
//
// Numerics follow torch.optim.SGD / torch.optim.AdamW with foreach=False
// (https://pytorch.org/docs/stable/optim.html) operation by operation in float32: Python scalars
// become float, `t.add(u, alpha=a)` is one fused multiply-add fma(u, a, t) (as PyTorch's vectorized
// CPU kernel), `lerp_` uses PyTorch's two-branch formula (also fused), `addcmul_(u, u, value=c)` is
// fma(c*u, u, t), and `addcdiv_(u, d, value=c)` is t + (c*u)/d. Checked bit for bit against
// torch 2.13 on CPU for SGD and for AdamW's moments; AdamW's parameters can differ by an ulp where
// PyTorch's sqrt (MKL VML) is not correctly rounded and ours (vsqrtps) is.
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

namespace layerwise::cpu {

namespace {

// An optimization barrier on a float or vector value: it keeps a rounded product from being fused
// into a later add (GCC contracts a*b + c into an FMA otherwise). x86: any SSE/AVX register;
// aarch64: any FP/SIMD register; elsewhere a volatile round trip does the same, more slowly.
template <typename T>
inline void keep_rounded(T& v) {
#if defined(__x86_64__)
  asm("" : "+x"(v));
#elif defined(__aarch64__)
  asm("" : "+w"(v));
#else
  volatile T round_trip = v;
  v = round_trip;
#endif
}

struct SgdScalars {
  float wd, momentum, damp1, neg_lr;  // float(wd_t), float(momentum), float(1 - dampening), float(-lr_t)
};

// One chunk of SGD. The flags are template parameters so that every variant is a branch-free,
// vectorized loop. torch: grad.add(param, alpha=wd); buf.mul_(momentum).add_(grad, alpha=1-dampening)
// (or buf = grad.clone() on the first step); grad.add(buf, alpha=momentum) (Nesterov) or grad = buf;
// param.add_(grad, alpha=-lr).
template <bool kDecay, bool kMomentum, bool kFirst, bool kNesterov>
void sgd_chunk(float* p,        // (len)
               const float* g,  // (len)
               float* buf,      // (len), unused without momentum
               int64_t len, SgdScalars s) {
#pragma omp simd
  for (int64_t i = 0; i < len; i++) {
    float d = kDecay ? std::fma(p[i], s.wd, g[i]) : g[i];
    if constexpr (kMomentum) {
      const float b = kFirst ? d : std::fma(d, s.damp1, buf[i] * s.momentum);
      buf[i] = b;
      d = kNesterov ? std::fma(b, s.momentum, d) : b;
    }
    p[i] = std::fma(d, s.neg_lr, p[i]);
  }
}

using SgdChunkFn = void (*)(float*, const float*, float*, int64_t, SgdScalars);

template <bool kDecay>
SgdChunkFn pick_sgd(bool momentum, bool first, bool nesterov) {
  if (!momentum) return sgd_chunk<kDecay, false, false, false>;
  if (first) return nesterov ? sgd_chunk<kDecay, true, true, true> : sgd_chunk<kDecay, true, true, false>;
  return nesterov ? sgd_chunk<kDecay, true, false, true> : sgd_chunk<kDecay, true, false, false>;
}

struct AdamScalars {
  float decay;       // float(1 - lr_t * wd_t)
  float w1;          // float(1 - beta1): the lerp weight
  float beta2;       // float(beta2)
  float c2;          // float(1 - beta2)
  float bc2_sqrt;    // float(sqrt(bias_correction2))
  float eps;         // float(eps)
  float neg_step;    // float(-lr_t / bias_correction1)
};

// One chunk of AdamW. torch: param.mul_(1 - lr*wd); exp_avg.lerp_(grad, 1 - beta1);
// exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
// denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps);
// param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1).
// lerp (ATen/native/Lerp.h): weight < 0.5: self + w*(end - self), else end - (end - self)*(1 - w),
// which the vectorized kernel evaluates as fma(w, end - self, self) / fma(w - 1, end - self, end).
template <bool kSmallWeight>
void adamw_chunk(float* p,        // (len)
                 const float* g,  // (len)
                 float* m,        // (len)
                 float* v,        // (len)
                 int64_t len, AdamScalars s) {
  const float w_coeff = kSmallWeight ? s.w1 : s.w1 - 1.0f;
  int64_t i = 0;
#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
  // Eight lanes at a time. Written with intrinsics because GCC will not vectorize std::sqrt without
  // -fno-math-errno; every operation is the same correctly rounded one as in the scalar tail below.
  const __m256 decay = _mm256_set1_ps(s.decay), coeff = _mm256_set1_ps(w_coeff);
  const __m256 beta2 = _mm256_set1_ps(s.beta2), c2 = _mm256_set1_ps(s.c2);
  const __m256 bc2_sqrt = _mm256_set1_ps(s.bc2_sqrt), eps = _mm256_set1_ps(s.eps);
  const __m256 neg_step = _mm256_set1_ps(s.neg_step);
  for (; i + 8 <= len; i += 8) {
    const __m256 gi = _mm256_loadu_ps(g + i);
    const __m256 mo = _mm256_loadu_ps(m + i);
    __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), decay);
    keep_rounded(pi);  // keep the rounded product: GCC would otherwise fuse it into the final add
    const __m256 mi = _mm256_fmadd_ps(coeff, _mm256_sub_ps(gi, mo), kSmallWeight ? mo : gi);
    const __m256 vi = _mm256_fmadd_ps(_mm256_mul_ps(c2, gi), gi, _mm256_mul_ps(_mm256_loadu_ps(v + i), beta2));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2_sqrt), eps);
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(p + i, _mm256_add_ps(pi, _mm256_div_ps(_mm256_mul_ps(neg_step, mi), denom)));
  }
#endif
  for (; i < len; i++) {
    const float gi = g[i];
    float pi = p[i] * s.decay;
    keep_rounded(pi);  // as above: param.mul_ rounds before addcdiv_ adds
    const float mi = std::fma(w_coeff, gi - m[i], kSmallWeight ? m[i] : gi);
    const float vi = std::fma(s.c2 * gi, gi, v[i] * s.beta2);
    const float denom = std::sqrt(vi) / s.bc2_sqrt + s.eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + (s.neg_step * mi) / denom;
  }
}

}  // namespace

Status sgd_step(Context& ctx, float* const* params, const float* const* grads, float* const* momentum_buffers,
                const int64_t* host_numels, const double* host_lrs, const double* host_weight_decays,
                int64_t num_tensors, double momentum, double dampening, bool nesterov, bool first_step) {
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
  const int64_t total = chunks.count();
#pragma omp parallel for schedule(static) if (total > 1)
  for (int64_t c = 0; c < total; c++) {
    const auto [t, start, len] = chunks.piece(c, host_numels);
    const double wd = host_weight_decays[t];
    const SgdScalars s{static_cast<float>(wd), static_cast<float>(momentum), static_cast<float>(1.0 - dampening),
                       static_cast<float>(-host_lrs[t])};
    const SgdChunkFn fn = wd != 0.0 ? pick_sgd<true>(use_momentum, first_step, nesterov)
                                    : pick_sgd<false>(use_momentum, first_step, nesterov);
    fn(params[t] + start, grads[t] + start, use_momentum ? momentum_buffers[t] + start : nullptr, len, s);
  }
  return Status::Ok();
}

Status adamw_step(Context& ctx, float* const* params, const float* const* grads, float* const* exp_avgs,
                  float* const* exp_avg_sqs, const int64_t* host_numels, const double* host_lrs,
                  const double* host_weight_decays, int64_t num_tensors, double beta1, double beta2, double eps,
                  double bias_correction1, double bias_correction2) {
  const char* op = "adamw_step";
  Chunks chunks;
  LW_RETURN_IF_ERROR(make_chunks(op, chunks, host_numels, num_tensors));
  if (!(bias_correction1 > 0.0 && bias_correction2 > 0.0))
    return Status::Invalid(op, "bias corrections must be positive (bias_correction1=" + std::to_string(bias_correction1) +
                                   ", bias_correction2=" + std::to_string(bias_correction2) + ")");
  const float w1 = static_cast<float>(1.0 - beta1);
  const bool small_weight = std::fabs(w1) < 0.5f;
  const int64_t total = chunks.count();
#pragma omp parallel for schedule(static) if (total > 1)
  for (int64_t c = 0; c < total; c++) {
    const auto [t, start, len] = chunks.piece(c, host_numels);
    const double lr = host_lrs[t];
    const AdamScalars s{static_cast<float>(1.0 - lr * host_weight_decays[t]),
                        w1,
                        static_cast<float>(beta2),
                        static_cast<float>(1.0 - beta2),
                        static_cast<float>(std::sqrt(bias_correction2)),
                        static_cast<float>(eps),
                        static_cast<float>(-(lr / bias_correction1))};
    if (small_weight)
      adamw_chunk<true>(params[t] + start, grads[t] + start, exp_avgs[t] + start, exp_avg_sqs[t] + start, len, s);
    else
      adamw_chunk<false>(params[t] + start, grads[t] + start, exp_avgs[t] + start, exp_avg_sqs[t] + start, len, s);
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
