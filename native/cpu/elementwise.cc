// CPU elementwise kernels: scaled adds and products, scalar broadcasts, and the per-channel bias
// and gain ops (with their reductions) that conv, linear, position embeddings and LayerScale use.
// Every output may alias an input (the loops are pointwise). Channel reductions accumulate in
// double, one channel per thread, so the result does not depend on the thread count.
#include <cmath>

#include "cpu/context.h"

namespace layerwise::cpu {

namespace {

// Loops shorter than this run on one thread: the OpenMP fork costs more than the work.
constexpr int64_t kParallelMin = 1 << 15;

Status check_channels(const char* op, int64_t outer, int64_t channels, int64_t inner) {
  return check_sizes(op, {{"outer", outer}, {"channels", channels}, {"inner", inner}});
}

// out[c] = sum over o, i of a[o, c, i] * (b ? b[o, c, i] : 1), in double.
// inner == 1 (linear layers: (batch, features)) sums rows into a block of channel accumulators so
// the loads stay contiguous; otherwise each channel sums its `outer` runs of `inner` values.
Status channel_sums(const char* op, float* out,  // (channels)
                    const float* a,              // (outer, channels, inner)
                    const float* b,              // (outer, channels, inner) or nullptr
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
        const float* ra = a + o * channels + c0;
        if (b == nullptr) {
#pragma omp simd
          for (int64_t j = 0; j < len; j++) acc[j] += static_cast<double>(ra[j]);
        } else {
          const float* rb = b + o * channels + c0;
#pragma omp simd
          for (int64_t j = 0; j < len; j++) acc[j] += static_cast<double>(ra[j]) * static_cast<double>(rb[j]);
        }
      }
      for (int64_t j = 0; j < len; j++) out[c0 + j] = static_cast<float>(acc[j]);
    }
    return Status::Ok();
  }
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int64_t c = 0; c < channels; c++) {
    double s = 0.0;
    for (int64_t o = 0; o < outer; o++) {
      const float* ra = a + (o * channels + c) * inner;
      if (b == nullptr) {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < inner; i++) s += static_cast<double>(ra[i]);
      } else {
        const float* rb = b + (o * channels + c) * inner;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < inner; i++) s += static_cast<double>(ra[i]) * static_cast<double>(rb[i]);
      }
    }
    out[c] = static_cast<float>(s);
  }
  return Status::Ok();
}

// y[o, c, i] = x[o, c, i] (+ or *) v[c]. Kind selects the operation at compile time.
enum class ChannelOp { kAdd, kMul };

template <ChannelOp kind>
Status channel_apply(const char* op, float* y,  // (outer, channels, inner)
                     const float* x,            // (outer, channels, inner)
                     const float* v,            // (channels)
                     int64_t outer, int64_t channels, int64_t inner) {
  LW_RETURN_IF_ERROR(check_channels(op, outer, channels, inner));
  const int64_t total = outer * channels * inner;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (total > kParallelMin)
    for (int64_t o = 0; o < outer; o++) {
      const float* xr = x + o * channels;
      float* yr = y + o * channels;
#pragma omp simd
      for (int64_t c = 0; c < channels; c++) yr[c] = kind == ChannelOp::kAdd ? xr[c] + v[c] : xr[c] * v[c];
    }
    return Status::Ok();
  }
#pragma omp parallel for collapse(2) schedule(static) if (total > kParallelMin)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < channels; c++) {
      const float* xr = x + (o * channels + c) * inner;
      float* yr = y + (o * channels + c) * inner;
      const float vc = v[c];
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) yr[i] = kind == ChannelOp::kAdd ? xr[i] + vc : xr[i] * vc;
    }
  return Status::Ok();
}

}  // namespace

Status add_forward(Context& ctx, float* y, const float* a, const float* b, float alpha, float beta,
                   int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("add_forward", {{"n", n}}));
  // alpha == 1 is torch.add(a, b, alpha=beta), which PyTorch evaluates as one fused multiply-add.
  if (alpha == 1.0f) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) y[i] = std::fma(beta, b[i], a[i]);
  } else {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) y[i] = std::fma(alpha, a[i], beta * b[i]);
  }
  return Status::Ok();
}

Status mul_forward(Context& ctx, float* y, const float* a, const float* b, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("mul_forward", {{"n", n}}));
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
  return Status::Ok();
}

Status scale_forward(Context& ctx, float* y, const float* x, float alpha, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("scale_forward", {{"n", n}}));
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = alpha * x[i];
  return Status::Ok();
}

Status scalar_broadcast_forward(Context& ctx, float* y, const float* s, float alpha, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("scalar_broadcast_forward", {{"n", n}}));
  const float value = alpha * s[0];  // read before writing: y may alias s
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = value;
  return Status::Ok();
}

Status bias_add_forward(Context& ctx, float* y, const float* x, const float* bias, int64_t outer,
                        int64_t channels, int64_t inner) {
  return channel_apply<ChannelOp::kAdd>("bias_add_forward", y, x, bias, outer, channels, inner);
}

Status bias_add_backward(Context& ctx, float* dbias, const float* dy, int64_t outer, int64_t channels,
                         int64_t inner) {
  return channel_sums("bias_add_backward", dbias, dy, nullptr, outer, channels, inner);
}

Status channel_mul_forward(Context& ctx, float* y, const float* x, const float* scale, int64_t outer,
                           int64_t channels, int64_t inner) {
  return channel_apply<ChannelOp::kMul>("channel_mul_forward", y, x, scale, outer, channels, inner);
}

Status channel_mul_backward_scale(Context& ctx, float* dscale, const float* dy, const float* x,
                                  int64_t outer, int64_t channels, int64_t inner) {
  return channel_sums("channel_mul_backward_scale", dscale, dy, x, outer, channels, inner);
}

}  // namespace layerwise::cpu
