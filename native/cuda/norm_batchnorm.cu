// CUDA BatchNorm2d: batchnorm2d_forward_train / _forward_eval / _backward_train / _backward_eval
// (kernels/norm.h) with the CPU backend's semantics (native/cpu/norm.cc; PyTorch's batch_norm):
// save_invstd = 1 / sqrt(biased variance + eps), running_var updated with the unbiased variance,
// running_x = (1 - momentum) * running_x + momentum * batch_x, dgamma / dbeta overwritten, dx may
// alias dy, eval backward through the running statistics. Own kernels rather than cuDNN (whose
// batch norm has no eval backward and accumulates in float); the per-channel coefficients and the
// per-element formulas are native/shared/norm_math.h, the CPU's own, so the CPU tests cover them.
//
// Reductions in double. The training forward reads x once for its statistics: it sums d = x - K
// and d^2 with K the channel's first value (a shift that keeps the double sums free of
// cancellation), then mean = K + sum d / M and the centered squares sum d^2 - (sum d)^2 / M go to
// the CPU's bn_train_channel. The backward sums dy and dy * (x - center) around the saved or
// running mean, as the CPU. So the forward reads x twice in all (statistics, affine) and the
// backward reads dy and x twice. Each channel's n * hw values are split into `chunks` fixed
// ranges; one block sums one range of one channel (NCHW: 256 threads over the range's positions, 4 at a time;
// NHWC: an 8-row tile of 32 channels, 64 for 16-bit values, coalesced) into a partial, and one warp per
// channel then adds its partials in a fixed order. The chunk count depends only on the shape and
// the device's SM count, so results repeat run to run. Pointwise passes (affine, dx) are
// grid-stride loops that step their channel index instead of dividing per element.
#include <algorithm>

#include "cuda/context.h"
#include "cuda/norm_batchnorm_sums.cuh"
#include "shared/norm_math.h"

namespace layerwise::cuda {

namespace {

using namespace batchnorm;

template <typename T>
struct TrainFinal {
  const T* x;        // the shift K of channel ch is its first value, as partial_* read it
  int64_t first_stride;  // element of channel ch's first value: ch * first_stride
  double count;
  float momentum, eps;
  const float *gamma, *beta;
  float *save_mean, *save_invstd, *running_mean, *running_var, *a, *b;
  __device__ void operator()(int64_t ch, double sum_d, double sum_d2) const {
    const double k = static_cast<double>(to_f32(x[ch * first_stride]));
    const double centered = sum_d2 - sum_d * (sum_d / count);  // rounding can leave it just below 0; NaN stays
    shared::bn_train_channel(k + sum_d / count, centered < 0.0 ? 0.0 : centered, count, momentum, eps, gamma[ch],
                             beta[ch], &save_mean[ch], &save_invstd[ch], &running_mean[ch], &running_var[ch], &a[ch],
                             &b[ch]);
  }
};

struct EvalCoefficients {
  const float *gamma, *beta, *running_mean, *running_var;
  float eps;
  float *a, *b;
  __device__ void operator()(int64_t ch) const {
    shared::bn_eval_channel(gamma[ch], beta[ch], running_mean[ch], running_var[ch], eps, &a[ch], &b[ch]);
  }
};

struct BackwardTrainFinal {
  double count;
  const float *save_invstd, *gamma;
  float *dgamma, *dbeta, *mean_dy, *k, *w;
  __device__ void operator()(int64_t ch, double sum_dy, double sum_dy_xmu) const {
    shared::bn_backward_train_channel(sum_dy, sum_dy_xmu, count, save_invstd[ch], gamma[ch], &dgamma[ch], &dbeta[ch],
                                      &mean_dy[ch], &k[ch], &w[ch]);
  }
};

struct BackwardEvalFinal {
  const float *gamma, *running_var;
  float eps;
  float *dgamma, *dbeta, *w;
  __device__ void operator()(int64_t ch, double sum_dy, double sum_dy_xmu) const {
    shared::bn_backward_eval_channel(sum_dy, sum_dy_xmu, gamma[ch], running_var[ch], eps, &dgamma[ch], &dbeta[ch],
                                     &w[ch]);
  }
};

// op(e, ch) for every item of V elements e .. e + V - 1 (ch[k]: the channel of e + k) of the
// (n, c, hw) tensor: a grid-stride loop that carries the channel along (NCHW: channel (e / hw) % c;
// NHWC: e % c, i.e. q = 1) with adds and compares, where dividing per element (64-bit) would cost
// more than the memory traffic. (r, ch) is the position of the thread's next element.
template <int V, typename Op>
__global__ void channel_pointwise_kernel(int64_t items, int64_t q, int64_t c, Op op) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  int64_t u = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (u >= items) return;
  const int64_t skip = (stride - 1) * V;  // from the item after u to item u + stride
  const int64_t step_r = skip % q, step_ch = (skip / q) % c;
  int64_t r = (u * V) % q, ch = ((u * V) / q) % c;
  for (; u < items; u += stride) {
    int64_t chs[V];
#pragma unroll
    for (int k = 0; k < V; k++) {
      chs[k] = ch;
      if (++r == q) {
        r = 0;
        if (++ch == c) ch = 0;
      }
    }
    op.template apply<V>(u * V, chs);
    r += step_r;
    const int64_t carry = r >= q ? 1 : 0;
    r -= carry * q;
    ch += step_ch + carry;  // < 2c
    if (ch >= c) ch -= c;
  }
}

// 16-byte accesses (4 float32 or 8 16-bit values) when every pointer of op is 16-byte aligned and
// the element count a multiple of the pack; one element at a time otherwise.
template <typename T, typename Op>
Status channel_pointwise(Context& ctx, const char* op_name, int64_t n, int64_t c, int64_t hw, bool channels_last, Op op) {
  constexpr int kPack = static_cast<int>(16 / sizeof(T));
  const int64_t total = n * c * hw, q = channels_last ? 1 : hw;
  if (total <= 0) return Status::Ok();
  if (total % kPack == 0 && op.aligned(16)) {
    channel_pointwise_kernel<kPack><<<grid_for(ctx, total / kPack), kThreads, 0, ctx.stream>>>(total / kPack, q, c, op);
  } else {
    channel_pointwise_kernel<1><<<grid_for(ctx, total), kThreads, 0, ctx.stream>>>(total, q, c, op);
  }
  return check_launch(ctx, op_name);
}

template <typename T>
struct Affine {
  T* y;
  const T* x;
  const float *a, *b;
  bool aligned(uintptr_t bytes) const { return aligned_to(y, bytes) && aligned_to(x, bytes); }
  template <int V>
  __device__ __forceinline__ void apply(int64_t e, const int64_t (&ch)[V]) const {
    const Pack<T, V> in = load_pack<V>(x, e);
    Pack<T, V> out;
#pragma unroll
    for (int k = 0; k < V; k++) out.v[k] = from_f32<T>(shared::bn_affine(to_f32(in.v[k]), a[ch[k]], b[ch[k]]));
    *reinterpret_cast<Pack<T, V>*>(y + e) = out;
  }
};

// dx = bn_dx(dy, x, mean_dy, mean, k, w); eval mode passes zeros for mean_dy, mean and k, as the CPU.
template <typename T>
struct Dx {
  T* dx;
  const T *dy, *x;
  const float *mean_dy, *mean, *k, *w;
  bool eval;
  bool aligned(uintptr_t bytes) const { return aligned_to(dx, bytes) && aligned_to(dy, bytes) && aligned_to(x, bytes); }
  template <int V>
  __device__ __forceinline__ void apply(int64_t e, const int64_t (&ch)[V]) const {
    const Pack<T, V> g = load_pack<V>(dy, e), in = load_pack<V>(x, e);
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; j++) {
      const int64_t c = ch[j];
      const float md = eval ? 0.0f : mean_dy[c], m = eval ? 0.0f : mean[c], kk = eval ? 0.0f : k[c];
      out.v[j] = from_f32<T>(shared::bn_dx(to_f32(g.v[j]), to_f32(in.v[j]), md, m, kk, w[c]));
    }
    *reinterpret_cast<Pack<T, V>*>(dx + e) = out;
  }
};

// norm.cc's check_bn: sizes >= 0 and, in training, at least min_count values per channel.
Status check_bn(const char* op, int64_t n, int64_t c, int64_t hw, int64_t min_count) {
  LW_STATUS_TRY(check_sizes(op, {{"n", n}, {"c", c}, {"hw", hw}}));
  if (c > 0 && n * hw < min_count)
    return Status::Invalid(op, "expected more than " + std::to_string(min_count - 1) +
                                   " value(s) per channel in training mode (" +
                                   describe({{"n", n}, {"c", c}, {"hw", hw}}) + ")");
  return Status::Ok();
}

}  // namespace

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status batchnorm2d_forward_train(Context& ctx, void* y, float* save_mean, float* save_invstd, float* running_mean,
                                 float* running_var, const void* x, const float* gamma, const float* beta, DType dtype,
                                 int64_t n, int64_t c, int64_t hw, bool channels_last, float momentum, float eps) {
  const char* op = "batchnorm2d_forward_train";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_bn(op, n, c, hw, 2));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (c == 0) return Status::Ok();
    const T* xt = LW_CTYPED(x);
    Work w(ctx);
    LW_STATUS_TRY(init_work<Sum::kMoments>(w, ctx, op, xt, xt, n, c, hw, channels_last));
    const float* no_center = nullptr;
    LW_STATUS_TRY(partials<Sum::kMoments>(ctx, op, w, xt, xt, no_center, n, c, hw, channels_last));
    LW_STATUS_TRY(finish(ctx, op, w, c,
                         TrainFinal<T>{xt, channels_last ? 1 : hw, static_cast<double>(n * hw), momentum, eps, gamma,
                                       beta, save_mean, save_invstd, running_mean, running_var, w.f[0], w.f[1]}));
    return channel_pointwise<T>(ctx, op, n, c, hw, channels_last, Affine<T>{LW_TYPED(y), xt, w.f[0], w.f[1]});
  });
}

Status batchnorm2d_forward_eval(Context& ctx, void* y, const void* x, const float* gamma, const float* beta,
                                const float* running_mean, const float* running_var, DType dtype, int64_t n, int64_t c,
                                int64_t hw, bool channels_last, float eps) {
  const char* op = "batchnorm2d_forward_eval";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_bn(op, n, c, hw, 0));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (c == 0 || n * hw == 0) return Status::Ok();
    Work w(ctx);
    LW_STATUS_TRY(w.init(op, c, 1));
    LW_STATUS_TRY(launch_for(ctx, op, c, EvalCoefficients{gamma, beta, running_mean, running_var, eps, w.f[0], w.f[1]}));
    return channel_pointwise<T>(ctx, op, n, c, hw, channels_last, Affine<T>{LW_TYPED(y), LW_CTYPED(x), w.f[0], w.f[1]});
  });
}

// dx = gamma * invstd * (dy - sum(dy) / M - (x - mean) * invstd^2 * sum(dy * (x - mean)) / M), M = n * hw;
// the sums finish (on the stream) before dx is written, so dx may alias dy.
Status batchnorm2d_backward_train(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy, const void* x,
                                  const float* gamma, const float* save_mean, const float* save_invstd, DType dtype,
                                  int64_t n, int64_t c, int64_t hw, bool channels_last) {
  const char* op = "batchnorm2d_backward_train";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_bn(op, n, c, hw, 1));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (c == 0) return Status::Ok();
    Work w(ctx);
    LW_STATUS_TRY(init_work<Sum::kCentered>(w, ctx, op, LW_CTYPED(dy), LW_CTYPED(x), n, c, hw, channels_last));
    LW_STATUS_TRY(partials<Sum::kCentered>(ctx, op, w, LW_CTYPED(dy), LW_CTYPED(x), save_mean, n, c, hw, channels_last));
    LW_STATUS_TRY(finish(ctx, op, w, c,
                         BackwardTrainFinal{static_cast<double>(n * hw), save_invstd, gamma, dgamma, dbeta, w.f[0],
                                            w.f[1], w.f[2]}));
    return channel_pointwise<T>(ctx, op, n, c, hw, channels_last,
                             Dx<T>{LW_TYPED(dx), LW_CTYPED(dy), LW_CTYPED(x), w.f[0], save_mean, w.f[1], w.f[2], false});
  });
}

// Running statistics are constants here: dx = dy * gamma / sqrt(running_var + eps).
Status batchnorm2d_backward_eval(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy, const void* x,
                                 const float* gamma, const float* running_mean, const float* running_var, DType dtype,
                                 int64_t n, int64_t c, int64_t hw, bool channels_last, float eps) {
  const char* op = "batchnorm2d_backward_eval";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_bn(op, n, c, hw, 0));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (c == 0) return Status::Ok();
    Work w(ctx);
    LW_STATUS_TRY(init_work<Sum::kCentered>(w, ctx, op, LW_CTYPED(dy), LW_CTYPED(x), n, c, hw, channels_last));
    LW_STATUS_TRY(
        partials<Sum::kCentered>(ctx, op, w, LW_CTYPED(dy), LW_CTYPED(x), running_mean, n, c, hw, channels_last));
    LW_STATUS_TRY(finish(ctx, op, w, c, BackwardEvalFinal{gamma, running_var, eps, dgamma, dbeta, w.f[0]}));
    return channel_pointwise<T>(ctx, op, n, c, hw, channels_last,
                             Dx<T>{LW_TYPED(dx), LW_CTYPED(dy), LW_CTYPED(x), nullptr, nullptr, nullptr, w.f[0], true});
  });
}

#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cuda
