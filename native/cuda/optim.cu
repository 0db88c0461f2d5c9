// CUDA fused multi-tensor optimizer kernels (the contract's optim family, kernels/optim.h): SGD and
// AdamW steps with per-tensor lr = lr * lr_scales[t] read on the device and float16 loss scaling
// fused in (the whole step is skipped when found_inf[0] != 0, gradients are read as grad *
// inv_scale), the loss-scaling unscale + found-inf check, and the baselines' multi_axpby and
// LAMB direction. Every kernel is one multi_tensor_apply pass (optim_multi_tensor.cuh): a
// ResNet-50 step is one launch. The per-element math is native/shared/optim_math.h's, the same
// functions the CPU backend (native/cpu/optim*.cc) runs, so the CPU tests cover it; rounding is
// explicit there (_rn intrinsics on the device), so results match the CPU's bit for bit except
// where sqrt/div differ (both are IEEE correctly rounded here).
// Reference: apex csrc/multi_tensor_sgd_kernel.cu, multi_tensor_adam.cu (structure); torch
// _fused_sgd_ / _fused_adamw_ (found_inf / grad_scale semantics); CUDA C++ Programming Guide,
// "Floating-Point Standard" and "Function Parameters" (32,764-byte kernel parameters).
#include <cstdint>
#include <string>

#include "cuda/context.h"
#include "cuda/optim_multi_tensor.cuh"
#include "shared/optim_math.h"

namespace layerwise::cuda {

namespace {

using multi_tensor::TensorListMeta;

template <typename P>
const void* const* as_list(P* const* list) {
  return reinterpret_cast<const void* const*>(list);
}

double zero_of(int64_t) { return 0.0; }

__device__ __forceinline__ bool flag_set(const float* found_inf) { return found_inf != nullptr && found_inf[0] != 0.0f; }

// ---- SGD: lists (param, grad) or (param, grad, momentum_buffer); a = weight decay ----
struct SgdTensorScalars {
  shared::SgdScalars s;
  bool decay;  // wd_t != 0, as the CPU's per-tensor choice of variant (uniform within a block)
};

template <bool kMomentum, bool kFirst, bool kNesterov>
struct SgdOp {
  static constexpr int kDepth = kMomentum ? 3 : 2;
  static constexpr bool kFlags = false;
  const float* lr_scales;
  const float* found_inf;
  double lr, momentum, dampening;
  float inv_scale;

  static constexpr __device__ bool writes(int d) { return d != 1; }
  __device__ bool skip() const { return flag_set(found_inf); }
  __device__ SgdTensorScalars scalars(const TensorListMeta<kDepth>& m, int lt) const {
    const double lr_t = lr * static_cast<double>(lr_scales[m.index[lt]]);
    return SgdTensorScalars{shared::sgd_scalars(lr_t, m.a[lt], momentum, dampening, inv_scale), m.a[lt] != 0.0};
  }
  __device__ bool element(const SgdTensorScalars& t, float (&x)[kDepth]) const {
    float unused = 0.0f;
    float& buf = kMomentum ? x[kDepth - 1] : unused;
    if (t.decay) shared::sgd_element<true, kMomentum, kFirst, kNesterov>(x[0], x[1], buf, t.s);
    else shared::sgd_element<false, kMomentum, kFirst, kNesterov>(x[0], x[1], buf, t.s);
    return false;
  }
};

template <bool kMomentum, bool kFirst, bool kNesterov>
Status run_sgd(Context& ctx, float* const* params, const float* const* grads, float* const* bufs, const float* lr_scales,
               const float* found_inf, const int64_t* numels, const double* wds, int64_t n, double lr, double momentum,
               double dampening, float inv_scale) {
  using Op = SgdOp<kMomentum, kFirst, kNesterov>;
  const Op op{lr_scales, found_inf, lr, momentum, dampening, inv_scale};
  auto wd_of = [wds](int64_t t) { return wds[t]; };
  if constexpr (kMomentum) {
    const void* const* lists[3] = {as_list(params), as_list(grads), as_list(bufs)};
    return multi_tensor::apply<3>(ctx, "sgd_step", lists, numels, n, wd_of, zero_of, op);
  } else {
    const void* const* lists[2] = {as_list(params), as_list(grads)};
    return multi_tensor::apply<2>(ctx, "sgd_step", lists, numels, n, wd_of, zero_of, op);
  }
}

// ---- AdamW: lists (param, grad, exp_avg, exp_avg_sq); a = weight decay ----
template <bool kSmallWeight>
struct AdamWOp {
  static constexpr bool kFlags = false;
  const float* lr_scales;
  const float* found_inf;
  double lr;
  shared::AdamConstants k;

  static constexpr __device__ bool writes(int d) { return d != 1; }
  __device__ bool skip() const { return flag_set(found_inf); }
  __device__ shared::AdamScalars scalars(const TensorListMeta<4>& m, int lt) const {
    return shared::adam_scalars(k, lr * static_cast<double>(lr_scales[m.index[lt]]), m.a[lt]);
  }
  __device__ bool element(const shared::AdamScalars& s, float (&x)[4]) const {
    shared::adamw_element<kSmallWeight>(x[0], x[1], x[2], x[3], s);
    return false;
  }
};

// ---- unscale + found-inf: list (grad) ----
template <bool kWrite>
struct UnscaleOp {
  static constexpr bool kFlags = true;
  float* found_inf;
  float inv_scale;

  static constexpr __device__ bool writes(int) { return kWrite; }
  __device__ bool skip() const { return false; }
  __device__ float scalars(const TensorListMeta<1>&, int) const { return inv_scale; }
  __device__ bool element(float inv, float (&x)[1]) const {
    const bool bad = !shared::is_finite_f(x[0]);
    if (kWrite) x[0] = shared::scale_element(x[0], inv);
    return bad;
  }
  // Every block that saw a non-finite value stores the same 1.0f: no atomics needed.
  __device__ void raise() const { found_inf[0] = 1.0f; }
};

// ---- axpby: lists (y) when every beta is 0, else (y, x); a = alpha, b = beta ----
struct ScaleOp {
  static constexpr bool kFlags = false;
  static constexpr __device__ bool writes(int) { return true; }
  __device__ bool skip() const { return false; }
  __device__ float scalars(const TensorListMeta<1>& m, int lt) const { return static_cast<float>(m.a[lt]); }
  __device__ bool element(float alpha, float (&x)[1]) const {
    x[0] = shared::scale_element(x[0], alpha);
    return false;
  }
};

struct AxpbyScalars {
  float alpha, beta;
};
struct AxpbyOp {
  static constexpr bool kFlags = false;
  static constexpr __device__ bool writes(int d) { return d == 0; }
  __device__ bool skip() const { return false; }
  __device__ AxpbyScalars scalars(const TensorListMeta<2>& m, int lt) const {
    return AxpbyScalars{static_cast<float>(m.a[lt]), static_cast<float>(m.b[lt])};
  }
  __device__ bool element(const AxpbyScalars& s, float (&x)[2]) const {
    // As the CPU: a tensor whose float(beta) is 0 gets alpha*y (x unread, so a NaN there stays out).
    x[0] = s.beta == 0.0f ? shared::scale_element(x[0], s.alpha) : shared::axpby_element(x[0], x[1], s.alpha, s.beta);
    return false;
  }
};

// ---- LAMB direction: lists (grad -> r, exp_avg, exp_avg_sq, param); a = weight decay ----
struct LambElementScalars {
  shared::LambScalars k;
  float wd;
};
struct LambOp {
  static constexpr bool kFlags = false;
  shared::LambScalars k;
  static constexpr __device__ bool writes(int d) { return d != 3; }
  __device__ bool skip() const { return false; }
  __device__ LambElementScalars scalars(const TensorListMeta<4>& m, int lt) const {
    return LambElementScalars{k, static_cast<float>(m.a[lt])};
  }
  __device__ bool element(const LambElementScalars& s, float (&x)[4]) const {
    x[0] = shared::lamb_element(x[0], x[1], x[2], x[3], s.wd, s.k);
    return false;
  }
};

}  // namespace

Status sgd_step(Context& ctx, float* const* params, const float* const* grads, float* const* momentum_buffers,
                const float* lr_scales, const float* found_inf, const int64_t* host_numels,
                const double* host_weight_decays, int64_t num_tensors, double lr, double momentum, double dampening,
                bool nesterov, bool first_step, float inv_scale) {
  const char* op = "sgd_step";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(multi_tensor::check_numels(op, host_numels, num_tensors));
  const bool use_momentum = momentum != 0.0;
  if (use_momentum && num_tensors > 0 && momentum_buffers == nullptr)
    return Status::Invalid(op, "momentum=" + std::to_string(momentum) + " needs momentum_buffers (num_tensors=" +
                                   std::to_string(num_tensors) + ")");
  if (nesterov && (!use_momentum || dampening != 0.0))
    return Status::Invalid(op, "nesterov needs momentum > 0 and dampening = 0 (momentum=" + std::to_string(momentum) +
                                   ", dampening=" + std::to_string(dampening) + ")");
#define LW_SGD(M, F, N)                                                                                       \
  run_sgd<M, F, N>(ctx, params, grads, momentum_buffers, lr_scales, found_inf, host_numels, host_weight_decays, \
                   num_tensors, lr, momentum, dampening, inv_scale)
  if (!use_momentum) return LW_SGD(false, false, false);
  if (first_step) return nesterov ? LW_SGD(true, true, true) : LW_SGD(true, true, false);
  return nesterov ? LW_SGD(true, false, true) : LW_SGD(true, false, false);
#undef LW_SGD
}

Status adamw_step(Context& ctx, float* const* params, const float* const* grads, float* const* exp_avgs,
                  float* const* exp_avg_sqs, const float* lr_scales, const float* found_inf,
                  const int64_t* host_numels, const double* host_weight_decays, int64_t num_tensors, double lr,
                  double beta1, double beta2, double eps, double bias_correction1, double bias_correction2,
                  float inv_scale) {
  const char* op = "adamw_step";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(multi_tensor::check_numels(op, host_numels, num_tensors));
  if (!(bias_correction1 > 0.0 && bias_correction2 > 0.0))
    return Status::Invalid(op, "bias corrections must be positive (bias_correction1=" + std::to_string(bias_correction1) +
                                   ", bias_correction2=" + std::to_string(bias_correction2) + ")");
  const shared::AdamConstants k = shared::adam_constants(beta1, beta2, eps, bias_correction1, bias_correction2, inv_scale);
  const void* const* lists[4] = {as_list(params), as_list(grads), as_list(exp_avgs), as_list(exp_avg_sqs)};
  auto wd_of = [host_weight_decays](int64_t t) { return host_weight_decays[t]; };
  if (shared::adam_small_weight(beta1))
    return multi_tensor::apply<4>(ctx, op, lists, host_numels, num_tensors, wd_of, zero_of, AdamWOp<true>{lr_scales, found_inf, lr, k});
  return multi_tensor::apply<4>(ctx, op, lists, host_numels, num_tensors, wd_of, zero_of, AdamWOp<false>{lr_scales, found_inf, lr, k});
}

Status multi_unscale_found_inf(Context& ctx, float* const* grads, float* found_inf, const int64_t* host_numels,
                               int64_t num_tensors, float inv_scale) {
  const char* op = "multi_unscale_found_inf";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(multi_tensor::check_numels(op, host_numels, num_tensors));
  const void* const* lists[1] = {as_list(grads)};
  if (inv_scale == 1.0f)  // only the check: nothing is written
    return multi_tensor::apply<1>(ctx, op, lists, host_numels, num_tensors, zero_of, zero_of, UnscaleOp<false>{found_inf, inv_scale});
  return multi_tensor::apply<1>(ctx, op, lists, host_numels, num_tensors, zero_of, zero_of, UnscaleOp<true>{found_inf, inv_scale});
}

Status multi_axpby(Context& ctx, float* const* ys, const float* const* xs, const int64_t* host_numels,
                   const double* host_alphas, const double* host_betas, int64_t num_tensors) {
  const char* op = "multi_axpby";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(multi_tensor::check_numels(op, host_numels, num_tensors));
  auto alpha_of = [host_alphas](int64_t t) { return host_alphas[t]; };
  auto beta_of = [host_betas](int64_t t) { return host_betas[t]; };
  bool any_beta = false;
  for (int64_t t = 0; t < num_tensors; t++) any_beta = any_beta || static_cast<float>(host_betas[t]) != 0.0f;
  if (!any_beta) {  // NG's rescale: x is never read
    const void* const* lists[1] = {as_list(ys)};
    return multi_tensor::apply<1>(ctx, op, lists, host_numels, num_tensors, alpha_of, beta_of, ScaleOp{});
  }
  const void* const* lists[2] = {as_list(ys), as_list(xs)};
  return multi_tensor::apply<2>(ctx, op, lists, host_numels, num_tensors, alpha_of, beta_of, AxpbyOp{});
}

Status lamb_direction(Context& ctx, float* const* grads, float* const* exp_avgs, float* const* exp_avg_sqs,
                      const float* const* params, const int64_t* host_numels, const double* host_weight_decays,
                      int64_t num_tensors, double beta1, double beta2, double eps, double bias_correction1,
                      double bias_correction2) {
  const char* op = "lamb_direction";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(multi_tensor::check_numels(op, host_numels, num_tensors));
  if (!(bias_correction1 > 0.0 && bias_correction2 > 0.0))
    return Status::Invalid(op, "bias corrections must be positive (bias_correction1=" + std::to_string(bias_correction1) +
                                   ", bias_correction2=" + std::to_string(bias_correction2) + ")");
  const void* const* lists[4] = {as_list(grads), as_list(exp_avgs), as_list(exp_avg_sqs), as_list(params)};
  auto wd_of = [host_weight_decays](int64_t t) { return host_weight_decays[t]; };
  const LambOp lamb{shared::lamb_scalars(beta1, beta2, eps, bias_correction1, bias_correction2)};
  return multi_tensor::apply<4>(ctx, op, lists, host_numels, num_tensors, wd_of, zero_of, lamb);
}

}  // namespace layerwise::cuda
