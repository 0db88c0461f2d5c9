// CUDA elementwise kernels (kernels/elementwise.h): scaled adds and products, scalar broadcasts,
// and the per-channel bias add and gain (forward), for float32, bfloat16 and float16 storage;
// their channel reductions (bias_add_backward, channel_mul_backward_scale) are in
// elementwise_channels.cu. The per-element math is native/shared/elementwise_math.h, the same
// functions the CPU backend (native/cpu/elementwise.cc) runs, so the CPU tests cover it. Every
// kernel is a grid-stride loop, over 16-byte packs where the pointers allow (pointwise.cuh); y
// may alias an input (each element is read before it is written, by the same thread). No
// cuBLAS/cuDNN; reference: CUDA C++ Programming Guide (grid-stride loops).
#include <cstdint>

#include "cuda/context.h"
#include "cuda/pointwise.cuh"
#include "shared/elementwise_math.h"

namespace layerwise::cuda {

using shared::ChannelOp;

namespace {

// Element functors of pointwise::map (pointwise.cuh): element values in, the rounded value out.
template <typename T>
struct AddUnitAlpha {
  float beta;
  __device__ T operator()(T a, T b) const { return from_f32<T>(shared::add_unit_alpha(beta, to_f32(a), to_f32(b))); }
};

template <typename T>
struct AddScaled {
  float alpha, beta;
  __device__ T operator()(T a, T b) const { return from_f32<T>(shared::add_scaled(alpha, beta, to_f32(a), to_f32(b))); }
};

template <typename T>
struct Mul {
  __device__ T operator()(T a, T b) const { return from_f32<T>(shared::mul_value(to_f32(a), to_f32(b))); }
};

template <typename T>
struct Scale {
  float alpha;
  __device__ T operator()(T x) const { return from_f32<T>(shared::scale_value(alpha, to_f32(x))); }
};

// value[0] = alpha * s[0] into scratch, when y overlaps s: no element of y is written before
// every thread has read s.
struct ScalarValue {
  float* value;
  const float* s;
  float alpha;
  __device__ void operator()(int64_t) const { value[0] = shared::scale_value(alpha, s[0]); }
};

// y[i] = alpha * value[0].
template <typename T>
struct Broadcast {
  T* y;
  const float* value;
  float alpha;
  __device__ void operator()(int64_t i) const { y[i] = from_f32<T>(shared::scale_value(alpha, value[0])); }
};

// y[o, c, i] = x[o, c, i] (+ or *) v[c], flat index e = (o * channels + c) * inner + i.
template <ChannelOp kind, typename T>
struct ChannelApply {
  T* y;
  const T* x;
  const T* v;
  int64_t channels, inner;
  __device__ void operator()(int64_t e) const {
    const int64_t c = (inner == 1 ? e : e / inner) % channels;
    y[e] = from_f32<T>(shared::channel_value<kind>(to_f32(x[e]), to_f32(v[c])));
  }
};

Status check_channels(const char* op, int64_t outer, int64_t channels, int64_t inner) {
  return check_sizes(op, {{"outer", outer}, {"channels", channels}, {"inner", inner}});
}

// inner == 1 (linear layers' (rows, features), channels-last maps) with channels a multiple of the
// pack and aligned pointers: pack p of y holds channels [c0, c0 + V) of one row, c0 / V = p mod
// channel_packs, so x, y and v move as 16-byte packs (pointwise.cuh) and the index math runs once
// per pack.
template <ChannelOp kind, typename T, int V>
__global__ void __launch_bounds__(kThreads) channel_rows_kernel(T* y, const T* x, const T* v, int64_t packs,
                                                                int64_t channel_packs) {
  using P = pointwise::Pack<T, V>;
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < packs;
       p += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const P px = reinterpret_cast<const P*>(x)[p];
    const P pv = reinterpret_cast<const P*>(v)[p % channel_packs];
    P py;
#pragma unroll
    for (int k = 0; k < V; k++) py.v[k] = from_f32<T>(shared::channel_value<kind>(to_f32(px.v[k]), to_f32(pv.v[k])));
    reinterpret_cast<P*>(y)[p] = py;
  }
}

template <ChannelOp kind, typename T>
Status channel_apply(Context& ctx, const char* op, T* y, const T* x, const T* v, int64_t outer, int64_t channels,
                     int64_t inner) {
  LW_STATUS_TRY(check_channels(op, outer, channels, inner));
  constexpr int kPack = static_cast<int>(16 / sizeof(T));
  const int64_t total = outer * channels * inner;
  if (inner == 1 && total > 0 && channels % kPack == 0 && pointwise::aligned16(y) && pointwise::aligned16(x) &&
      pointwise::aligned16(v)) {
    LW_STATUS_TRY(check_context(ctx, op));
    const int64_t packs = total / kPack;
    channel_rows_kernel<kind, T, kPack><<<grid_for(ctx, packs), kThreads, 0, ctx.stream>>>(y, x, v, packs,
                                                                                           channels / kPack);
    return check_launch(ctx, op);
  }
  return launch_for(ctx, op, total, ChannelApply<kind, T>{y, x, v, channels, inner});
}

}  // namespace

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status add_forward(Context& ctx, void* y, const void* a, const void* b, DType dtype, float alpha, float beta,
                   int64_t n) {
  const char* op = "add_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (alpha == 1.0f) return pointwise::map2(ctx, op, n, LW_TYPED(y), LW_CTYPED(a), LW_CTYPED(b), AddUnitAlpha<T>{beta});
    return pointwise::map2(ctx, op, n, LW_TYPED(y), LW_CTYPED(a), LW_CTYPED(b), AddScaled<T>{alpha, beta});
  });
}

Status mul_forward(Context& ctx, void* y, const void* a, const void* b, DType dtype, int64_t n) {
  const char* op = "mul_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return pointwise::map2(ctx, op, n, LW_TYPED(y), LW_CTYPED(a), LW_CTYPED(b), Mul<T>{});
  });
}

Status scale_forward(Context& ctx, void* y, const void* x, DType dtype, float alpha, int64_t n) {
  const char* op = "scale_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return pointwise::map1(ctx, op, n, LW_TYPED(y), LW_CTYPED(x), Scale<T>{alpha});
  });
}

Status scalar_broadcast_forward(Context& ctx, void* y, const float* s, DType dtype, float alpha, int64_t n) {
  const char* op = "scalar_broadcast_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (n == 0) return Status::Ok();
    T* yt = LW_TYPED(y);
    const uintptr_t yb = reinterpret_cast<uintptr_t>(y);
    const uintptr_t sb = reinterpret_cast<uintptr_t>(s);
    const bool overlap = yb < sb + sizeof(float) && sb < yb + static_cast<uintptr_t>(n) * sizeof(T);
    if (!overlap) return launch_for(ctx, op, n, Broadcast<T>{yt, s, alpha});
    float* value = nullptr;
    LW_STATUS_TRY(scratch_alloc(ctx, op, reinterpret_cast<void**>(&value), sizeof(float)));
    Status st = launch_for(ctx, op, 1, ScalarValue{value, s, alpha});
    if (st.ok()) st = launch_for(ctx, op, n, Broadcast<T>{yt, value, 1.0f});
    scratch_free(ctx, value);
    return st;
  });
}

Status bias_add_forward(Context& ctx, void* y, const void* x, const void* bias, DType dtype, int64_t outer,
                        int64_t channels, int64_t inner) {
  const char* op = "bias_add_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return channel_apply<ChannelOp::kAdd>(ctx, op, LW_TYPED(y), LW_CTYPED(x), LW_CTYPED(bias), outer, channels, inner);
  });
}

Status channel_mul_forward(Context& ctx, void* y, const void* x, const void* scale, DType dtype, int64_t outer,
                           int64_t channels, int64_t inner) {
  const char* op = "channel_mul_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return channel_apply<ChannelOp::kMul>(ctx, op, LW_TYPED(y), LW_CTYPED(x), LW_CTYPED(scale), outer, channels, inner);
  });
}

#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cuda
