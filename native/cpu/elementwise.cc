// CPU elementwise kernels: scaled adds and products, scalar broadcasts, and the per-channel bias
// and gain ops (with their reductions) that conv, linear, position embeddings and LayerScale use.
// Every output may alias an input (the loops are pointwise). Channel reductions accumulate in
// double, one channel per thread, so the result does not depend on the thread count. Storage is
// float32, bfloat16 or float16 (layerwise/dtype.h); arithmetic is in float.
#include <cmath>

#include "cpu/context.h"
#include "shared/elementwise_math.h"

namespace layerwise::cpu {

using shared::ChannelOp;
using shared::channel_term;
using shared::channel_value;

namespace {

// Loops shorter than this run on one thread: the OpenMP fork costs more than the work.
constexpr int64_t kParallelMin = 1 << 15;

Status check_channels(const char* op, int64_t outer, int64_t channels, int64_t inner) {
  return check_sizes(op, {{"outer", outer}, {"channels", channels}, {"inner", inner}});
}

// out[c] = sum over o, i of a[o, c, i] * (b ? b[o, c, i] : 1), in double.
// inner == 1 (linear layers: (batch, features)) sums rows into a block of channel accumulators so
// the loads stay contiguous; otherwise each channel sums its `outer` runs of `inner` values.
template <typename T>
Status channel_sums(const char* op, T* out,  // (channels)
                    const T* a,              // (outer, channels, inner)
                    const T* b,              // (outer, channels, inner) or nullptr
                    int64_t outer, int64_t channels, int64_t inner) {
  LW_RETURN_IF_ERROR(check_channels(op, outer, channels, inner));
  const int64_t total = outer * channels * inner;
  if (inner == 1) {
    constexpr int64_t kBlock = 256;
    const int64_t blocks = (channels + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (total > kParallelMin)
    for (int64_t blk = 0; blk < blocks; blk++) {
      const int64_t c0 = blk * kBlock;
      const int64_t len = channels - c0 < kBlock ? channels - c0 : kBlock;
      double acc[kBlock];
      for (int64_t j = 0; j < len; j++) acc[j] = 0.0;
      for (int64_t o = 0; o < outer; o++) {
        const T* ra = a + o * channels + c0;
        if (b == nullptr) {
#pragma omp simd
          for (int64_t j = 0; j < len; j++) acc[j] += channel_term(to_f32(ra[j]));
        } else {
          const T* rb = b + o * channels + c0;
#pragma omp simd
          for (int64_t j = 0; j < len; j++) acc[j] += channel_term(to_f32(ra[j]), to_f32(rb[j]));
        }
      }
      for (int64_t j = 0; j < len; j++) out[c0 + j] = from_f32<T>(static_cast<float>(acc[j]));
    }
    return Status::Ok();
  }
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int64_t c = 0; c < channels; c++) {
    double s = 0.0;
    for (int64_t o = 0; o < outer; o++) {
      const T* ra = a + (o * channels + c) * inner;
      if (b == nullptr) {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < inner; i++) s += channel_term(to_f32(ra[i]));
      } else {
        const T* rb = b + (o * channels + c) * inner;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < inner; i++) s += channel_term(to_f32(ra[i]), to_f32(rb[i]));
      }
    }
    out[c] = from_f32<T>(static_cast<float>(s));
  }
  return Status::Ok();
}

// y[o, c, i] = x[o, c, i] (+ or *) v[c]. Kind selects the operation at compile time.

template <ChannelOp kind, typename T>
Status channel_apply(const char* op, T* y,  // (outer, channels, inner)
                     const T* x,            // (outer, channels, inner)
                     const T* v,            // (channels)
                     int64_t outer, int64_t channels, int64_t inner) {
  LW_RETURN_IF_ERROR(check_channels(op, outer, channels, inner));
  const int64_t total = outer * channels * inner;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (total > kParallelMin)
    for (int64_t o = 0; o < outer; o++) {
      const T* xr = x + o * channels;
      T* yr = y + o * channels;
#pragma omp simd
      for (int64_t c = 0; c < channels; c++) {
        yr[c] = from_f32<T>(channel_value<kind>(to_f32(xr[c]), to_f32(v[c])));
      }
    }
    return Status::Ok();
  }
#pragma omp parallel for collapse(2) schedule(static) if (total > kParallelMin)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < channels; c++) {
      const T* xr = x + (o * channels + c) * inner;
      T* yr = y + (o * channels + c) * inner;
      const float vc = to_f32(v[c]);
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) {
        yr[i] = from_f32<T>(channel_value<kind>(to_f32(xr[i]), vc));
      }
    }
  return Status::Ok();
}

}  // namespace

namespace {
// Pointwise loop over n elements of T: y[i] = f(i) rounded to T; f computes in float.
template <typename T, typename F>
Status pointwise(int64_t n, T* y, F&& f) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = from_f32<T>(f(i));
  return Status::Ok();
}
}  // namespace

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status add_forward(Context& ctx, void* y, const void* a, const void* b, DType dtype, float alpha, float beta,
                   int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("add_forward", {{"n", n}}));
  return dispatch_float(dtype, "add_forward", [&](auto tag) {
    using T = decltype(tag);
    const T* at = LW_CTYPED(a);
    const T* bt = LW_CTYPED(b);
    // alpha == 1 is torch.add(a, b, alpha=beta), which PyTorch evaluates as one fused multiply-add.
    if (alpha == 1.0f) return pointwise(n, LW_TYPED(y), [&](int64_t i) { return shared::add_unit_alpha(beta, to_f32(at[i]), to_f32(bt[i])); });
    return pointwise(n, LW_TYPED(y), [&](int64_t i) { return shared::add_scaled(alpha, beta, to_f32(at[i]), to_f32(bt[i])); });
  });
}

Status mul_forward(Context& ctx, void* y, const void* a, const void* b, DType dtype, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("mul_forward", {{"n", n}}));
  return dispatch_float(dtype, "mul_forward", [&](auto tag) {
    using T = decltype(tag);
    const T* at = LW_CTYPED(a);
    const T* bt = LW_CTYPED(b);
    return pointwise(n, LW_TYPED(y), [&](int64_t i) { return shared::mul_value(to_f32(at[i]), to_f32(bt[i])); });
  });
}

Status scale_forward(Context& ctx, void* y, const void* x, DType dtype, float alpha, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("scale_forward", {{"n", n}}));
  return dispatch_float(dtype, "scale_forward", [&](auto tag) {
    using T = decltype(tag);
    const T* xt = LW_CTYPED(x);
    return pointwise(n, LW_TYPED(y), [&](int64_t i) { return shared::scale_value(alpha, to_f32(xt[i])); });
  });
}

Status scalar_broadcast_forward(Context& ctx, void* y, const float* s, DType dtype, float alpha, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("scalar_broadcast_forward", {{"n", n}}));
  const float value = shared::scale_value(alpha, s[0]);  // read before writing: y may alias s
  return dispatch_float(dtype, "scalar_broadcast_forward", [&](auto tag) {
    using T = decltype(tag);
    return pointwise(n, LW_TYPED(y), [&](int64_t) { return value; });
  });
}

Status bias_add_forward(Context& ctx, void* y, const void* x, const void* bias, DType dtype, int64_t outer,
                        int64_t channels, int64_t inner) {
  return dispatch_float(dtype, "bias_add_forward", [&](auto tag) {
    using T = decltype(tag);
    return channel_apply<ChannelOp::kAdd>("bias_add_forward", LW_TYPED(y), LW_CTYPED(x), LW_CTYPED(bias), outer, channels, inner);
  });
}

Status bias_add_backward(Context& ctx, void* dbias, const void* dy, DType dtype, int64_t outer, int64_t channels,
                         int64_t inner) {
  return dispatch_float(dtype, "bias_add_backward", [&](auto tag) {
    using T = decltype(tag);
    return channel_sums<T>("bias_add_backward", LW_TYPED(dbias), LW_CTYPED(dy), nullptr, outer, channels, inner);
  });
}

Status channel_mul_forward(Context& ctx, void* y, const void* x, const void* scale, DType dtype, int64_t outer,
                           int64_t channels, int64_t inner) {
  return dispatch_float(dtype, "channel_mul_forward", [&](auto tag) {
    using T = decltype(tag);
    return channel_apply<ChannelOp::kMul>("channel_mul_forward", LW_TYPED(y), LW_CTYPED(x), LW_CTYPED(scale), outer, channels, inner);
  });
}

Status channel_mul_backward_scale(Context& ctx, void* dscale, const void* dy, const void* x, DType dtype,
                                  int64_t outer, int64_t channels, int64_t inner) {
  return dispatch_float(dtype, "channel_mul_backward_scale", [&](auto tag) {
    using T = decltype(tag);
    return channel_sums<T>("channel_mul_backward_scale", LW_TYPED(dscale), LW_CTYPED(dy), LW_CTYPED(x), outer, channels, inner);
  });
}

#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cpu
