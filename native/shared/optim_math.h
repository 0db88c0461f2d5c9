// Optimizer math shared by the CPU and CUDA backends (LW_HD: __host__ __device__ under nvcc): the
// per-element updates of SGD, AdamW, LAMB's direction, axpby and the float16 unscale, written once
// so that the CPU tests (native/cpu/optim*.cc) cover the arithmetic the GPU kernels
// (native/cuda/optim.cu) run.
//
// Rounding is explicit, operation by operation, to follow torch.optim (foreach=False) in float32:
// fma_f is one fused multiply-add, mul_rn / add_rn / div_rn / sqrt_rn are single correctly rounded
// operations. On the device they are the _rn intrinsics, which nvcc never contracts into an FMA
// (CUDA C++ Programming Guide, "Floating-Point Standard" / intrinsic functions); on the host a
// product only needs a barrier where it is added to something (keep_rounded): GCC contracts
// `a*b + c` into an FMA but not a product passed to std::fma.
#pragma once
#include <cmath>
#include <cstdint>

#include "layerwise/dtype.h"

namespace layerwise::shared {

// An optimization barrier on a float or vector value (host only): it keeps a rounded product from
// being fused into a later add. x86: any SSE/AVX register; aarch64: any FP/SIMD register; elsewhere
// a volatile round trip does the same, more slowly. A no-op in device code (the _rn intrinsics are
// never contracted).
template <typename T>
LW_HD void keep_rounded(T& v) {
#if defined(__CUDA_ARCH__)
  (void)v;
#elif defined(__x86_64__)
  asm("" : "+x"(v));
#elif defined(__aarch64__)
  asm("" : "+w"(v));
#else
  volatile T round_trip = v;
  v = round_trip;
#endif
}

LW_HD float fma_f(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
LW_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
LW_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
LW_HD float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
LW_HD float sqrt_rn(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}
LW_HD bool is_finite_f(float x) {
#if defined(__CUDA_ARCH__)
  return isfinite(x);
#else
  return std::isfinite(x);
#endif
}

// ---- SGD (torch.optim.SGD) ----
struct SgdScalars {
  float wd;         // float(wd_t)
  float momentum;   // float(momentum)
  float damp1;      // float(1 - dampening)
  float neg_lr;     // float(-lr_t)
  float inv_scale;  // float16 unscale factor (1 when not scaling)
};

LW_HD SgdScalars sgd_scalars(double lr_t, double wd, double momentum, double dampening, float inv_scale) {
  return SgdScalars{static_cast<float>(wd), static_cast<float>(momentum), static_cast<float>(1.0 - dampening),
                    static_cast<float>(-lr_t), inv_scale};
}

// One element. torch: grad.add(param, alpha=wd); buf.mul_(momentum).add_(grad, alpha=1-dampening)
// (or buf = grad.clone() on the first step); grad.add(buf, alpha=momentum) (Nesterov) or grad = buf;
// param.add_(grad, alpha=-lr). `t.add(u, alpha=a)` is fma(u, a, t), as PyTorch's vectorized kernel.
// buf is read and written only with kMomentum.
template <bool kDecay, bool kMomentum, bool kFirst, bool kNesterov>
LW_HD void sgd_element(float& p, float grad, float& buf, const SgdScalars& s) {
  const float g = mul_rn(grad, s.inv_scale);
  float d = kDecay ? fma_f(p, s.wd, g) : g;
  if constexpr (kMomentum) {
    const float b = kFirst ? d : fma_f(d, s.damp1, mul_rn(buf, s.momentum));
    buf = b;
    d = kNesterov ? fma_f(b, s.momentum, d) : b;
  }
  p = fma_f(d, s.neg_lr, p);
}

// ---- AdamW (torch.optim.AdamW) ----
struct AdamScalars {
  float decay;      // float(1 - lr_t * wd_t)
  float w_coeff;    // the lerp coefficient: float(1 - beta1), minus 1 when that is >= 0.5
  float beta2;      // float(beta2)
  float c2;         // float(1 - beta2)
  float bc2_sqrt;   // float(sqrt(bias_correction2))
  float eps;        // float(eps)
  float neg_step;   // float(-lr_t / bias_correction1)
  float inv_scale;  // float16 unscale factor (1 when not scaling)
};

// lerp's branch (ATen/native/Lerp.h): weight < 0.5 takes self + w*(end - self).
inline bool adam_small_weight(double beta1) { return std::fabs(static_cast<float>(1.0 - beta1)) < 0.5f; }

// The tensor-independent part of AdamScalars, computed once per step on the host.
struct AdamConstants {
  float w_coeff, beta2, c2, bc2_sqrt, eps, inv_scale;
  double bias_correction1;
};

inline AdamConstants adam_constants(double beta1, double beta2, double eps, double bias_correction1,
                                    double bias_correction2, float inv_scale) {
  const float w1 = static_cast<float>(1.0 - beta1);
  return AdamConstants{adam_small_weight(beta1) ? w1 : w1 - 1.0f, static_cast<float>(beta2),
                       static_cast<float>(1.0 - beta2), static_cast<float>(std::sqrt(bias_correction2)),
                       static_cast<float>(eps), inv_scale, bias_correction1};
}

// A tensor's scalars (per chunk on the CPU, per block on the GPU): the double products rounded
// once (no FMA contraction) so that both backends get the same floats.
LW_HD AdamScalars adam_scalars(const AdamConstants& k, double lr_t, double wd) {
  double decay_product = lr_t * wd;
#if defined(__CUDA_ARCH__)
  decay_product = __dmul_rn(lr_t, wd);
#else
  keep_rounded(decay_product);
#endif
  return AdamScalars{static_cast<float>(1.0 - decay_product), k.w_coeff, k.beta2, k.c2, k.bc2_sqrt, k.eps,
                     static_cast<float>(-(lr_t / k.bias_correction1)), k.inv_scale};
}

// One element. torch: param.mul_(1 - lr*wd); exp_avg.lerp_(grad, 1 - beta1);
// exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
// denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps);
// param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1).
// lerp: weight < 0.5: fma(w, end - self, self), else fma(w - 1, end - self, end) (PyTorch's
// vectorized formula); addcmul_(u, u, value=c) is fma(c*u, u, t); addcdiv_(u, d, value=c) is t + (c*u)/d.
template <bool kSmallWeight>
LW_HD void adamw_element(float& p, float grad, float& m, float& v, const AdamScalars& s) {
  const float g = mul_rn(grad, s.inv_scale);
  float pi = mul_rn(p, s.decay);
  keep_rounded(pi);  // param.mul_ rounds before addcdiv_ adds
  const float mi = fma_f(s.w_coeff, g - m, kSmallWeight ? m : g);
  const float vi = fma_f(mul_rn(s.c2, g), g, mul_rn(v, s.beta2));
  const float denom = add_rn(div_rn(sqrt_rn(vi), s.bc2_sqrt), s.eps);
  m = mi;
  v = vi;
  p = add_rn(pi, div_rn(mul_rn(s.neg_step, mi), denom));
}

// ---- LAMB's direction (docs/method.md section 5.2) ----
struct LambScalars {
  float b1, c1;    // float(beta1), float(1 - beta1)
  float b2, c2;    // float(beta2), float(1 - beta2)
  float inv_bc1;   // float(1 / bias_correction1)
  float inv_bc2;   // float(1 / bias_correction2)
  float eps;       // float(eps)
};

LW_HD LambScalars lamb_scalars(double beta1, double beta2, double eps, double bias_correction1, double bias_correction2) {
  return LambScalars{static_cast<float>(beta1), static_cast<float>(1.0 - beta1), static_cast<float>(beta2),
                     static_cast<float>(1.0 - beta2), static_cast<float>(1.0 / bias_correction1),
                     static_cast<float>(1.0 / bias_correction2), static_cast<float>(eps)};
}

// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; returns r = (m/bc1) / (sqrt(v/bc2) + eps) + wd*w.
LW_HD float lamb_element(float g, float& m, float& v, float w, float wd, const LambScalars& s) {
  const float mi = fma_f(s.b1, m, mul_rn(s.c1, g));
  const float vi = fma_f(s.b2, v, mul_rn(mul_rn(s.c2, g), g));
  m = mi;
  v = vi;
  const float r = div_rn(mul_rn(mi, s.inv_bc1), add_rn(sqrt_rn(mul_rn(vi, s.inv_bc2)), s.eps));
  return fma_f(wd, w, r);
}

// ---- multi_axpby and the unscale ----
// y = alpha*y + beta*x as fma(beta, x, alpha*y); beta == 0 gives alpha*y exactly (x unread, so a NaN
// in x does not leak in).
LW_HD float axpby_element(float y, float x, float alpha, float beta) { return fma_f(beta, x, mul_rn(alpha, y)); }
LW_HD float scale_element(float y, float alpha) { return mul_rn(alpha, y); }

}  // namespace layerwise::shared
