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
#include "cuda/reduce_block.h"
#include "shared/norm_math.h"

namespace layerwise::cuda {

namespace {

enum class Sum { kMoments, kCentered };  // (sum x - K, sum (x - K)^2); (sum a, sum a * (b - center))

template <Sum kind>
__device__ __forceinline__ void accumulate(double& u, double& v, float a, float b, double center) {
  const double av = static_cast<double>(a);
  if constexpr (kind == Sum::kMoments) {
    const double d = av - center;
    u += d;
    v += d * d;
  } else {
    u += av;
    v += av * (static_cast<double>(b) - center);
  }
}

// V consecutive elements, loaded and stored as one access when aligned to sizeof(T) * V.
template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <int V, typename T>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p, int64_t e) {
  return *reinterpret_cast<const Pack<T, V>*>(p + e);
}

// The center of channel ch: the shift K = its first value (moments) or center[ch] (centered).
template <Sum kind, typename T, typename C>
__device__ __forceinline__ double center_of(const T* a, const C* center, int64_t ch, int64_t first) {
  if constexpr (kind == Sum::kMoments) {
    return static_cast<double>(to_f32(a[first]));
  } else {
    return static_cast<double>(center[ch]);
  }
}

// NCHW partials: block (chunk, channel) sums positions [chunk * len, ...) of the channel's n * hw
// values, position j = i * hw + p at (i * c + ch) * hw + p, in packs of P positions (hw is a
// multiple of P: 16 bytes a thread for float32, 8 for 16-bit values). A thread steps its pack index
// by blockDim.x and carries (i, p) along, so no 64-bit division runs per element.
template <Sum kind, int P, typename T, typename C>
__global__ void partial_nchw(double* p1, double* p2, const T* a, const T* b, const C* center, int64_t n, int64_t c,
                             int64_t hw, int64_t chunks) {
  __shared__ double s1[kThreads], s2[kThreads];
  const int64_t hwp = hw / P, m = n * hwp, len = (m + chunks - 1) / chunks, chunk = blockIdx.x;
  const int64_t j0 = chunk * len, j1 = j0 + len < m ? j0 + len : m;
  const int t = threadIdx.x;
  const int64_t step_i = blockDim.x / hwp, step_p = blockDim.x % hwp;
  for (int64_t ch = blockIdx.y; ch < c; ch += gridDim.y) {
    const double k = center_of<kind>(a, center, ch, ch * hw);
    double u = 0.0, v = 0.0;
    int64_t i = (j0 + t) / hwp, p = (j0 + t) - i * hwp;
    for (int64_t j = j0 + t; j < j1; j += blockDim.x) {
      const int64_t off = ((i * c + ch) * hwp + p) * P;
      const Pack<T, P> va = load_pack<P>(a, off);
      const Pack<T, P> vb = kind == Sum::kCentered ? load_pack<P>(b, off) : va;
#pragma unroll
      for (int q = 0; q < P; q++) accumulate<kind>(u, v, to_f32(va.v[q]), to_f32(vb.v[q]), k);
      p += step_p;
      i += step_i;
      if (p >= hwp) {
        p -= hwp;
        i++;
      }
    }
    s1[t] = u;
    s2[t] = v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (t < w) {
        s1[t] += s1[t + w];
        s2[t] += s2[t + w];
      }
      __syncthreads();
    }
    if (t == 0) {
      p1[ch * chunks + chunk] = s1[0];
      p2[ch * chunks + chunk] = s2[0];
    }
    __syncthreads();
  }
}

constexpr int kTileC = 32, kTileR = 8;  // NHWC tile: channel packs (threadIdx.x) x rows (threadIdx.y)

// NHWC partials: block (chunk, channel tile) sums rows [chunk * len, ...) of rows x c values; a
// thread takes P adjacent channels (P = 2 for 16-bit values: a warp reads 128 contiguous bytes of a
// row; c is a multiple of P).
template <Sum kind, int P, typename T, typename C>
__global__ void partial_nhwc(double* p1, double* p2, const T* a, const T* b, const C* center, int64_t rows, int64_t c,
                             int64_t chunks) {
  constexpr int kWidth = kTileC * P;
  __shared__ double s1[kTileR][kWidth + 1], s2[kTileR][kWidth + 1];
  const int64_t len = (rows + chunks - 1) / chunks, chunk = blockIdx.x;
  const int64_t r0 = chunk * len, r1 = r0 + len < rows ? r0 + len : rows;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t tile = blockIdx.y; tile * kWidth < c; tile += gridDim.y) {
    const int64_t ch0 = tile * kWidth + tx * P;
    double u[P], v[P];
#pragma unroll
    for (int j = 0; j < P; j++) u[j] = v[j] = 0.0;
    if (ch0 < c) {
      double k[P];
#pragma unroll
      for (int j = 0; j < P; j++) k[j] = center_of<kind>(a, center, ch0 + j, ch0 + j);
      for (int64_t r = r0 + ty; r < r1; r += kTileR) {
        const Pack<T, P> va = load_pack<P>(a, r * c + ch0);
        const Pack<T, P> vb = kind == Sum::kCentered ? load_pack<P>(b, r * c + ch0) : va;
#pragma unroll
        for (int j = 0; j < P; j++) accumulate<kind>(u[j], v[j], to_f32(va.v[j]), to_f32(vb.v[j]), k[j]);
      }
    }
#pragma unroll
    for (int j = 0; j < P; j++) {
      s1[ty][tx * P + j] = u[j];
      s2[ty][tx * P + j] = v[j];
    }
    __syncthreads();
    if (ty == 0 && ch0 < c) {
#pragma unroll
      for (int j = 0; j < P; j++) {
        double x1 = 0.0, x2 = 0.0;
        for (int k = 0; k < kTileR; k++) {
          x1 += s1[k][tx * P + j];
          x2 += s2[k][tx * P + j];
        }
        p1[(ch0 + j) * chunks + chunk] = x1;
        p2[(ch0 + j) * chunks + chunk] = x2;
      }
    }
    __syncthreads();
  }
}

// Scratch of one call: partials (2, c, chunks) doubles and coefficients (4, c) floats, in one
// block from the caching allocator (freed when the call returns, stream ordered).
struct Work {
  Context& ctx;
  void* block = nullptr;
  double *p1 = nullptr, *p2 = nullptr;
  float* f[4] = {nullptr, nullptr, nullptr, nullptr};
  int64_t chunks = 1;
  int pack = 1;  // values a thread loads at once (NHWC: channels, NCHW: positions)
  explicit Work(Context& c) : ctx(c) {}
  ~Work() {
    if (block != nullptr) scratch_free(ctx, block);
  }
  Status init(const char* op, int64_t c, int64_t chunk_count) {
    chunks = chunk_count;
    const int64_t doubles = 2 * c * chunks;
    LW_STATUS_TRY(scratch_alloc(ctx, op, &block, doubles * 8 + 4 * c * 4));
    p1 = static_cast<double*>(block);
    p2 = p1 + c * chunks;
    for (int i = 0; i < 4; i++) f[i] = reinterpret_cast<float*>(p2 + c * chunks) + i * c;
    return Status::Ok();
  }
};

// Blocks of `kernel` (kThreads threads) that fit on one SM at once; 8 if the query fails.
template <typename K>
int resident_blocks(K kernel) {
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, kThreads, 0) != cudaSuccess || blocks < 1) {
    (void)cudaGetLastError();
    return 8;
  }
  return blocks;
}

// Resident blocks per SM of the partial kernel that partials() will launch (queried once each).
template <Sum kind, typename T>
int partial_residency(bool channels_last, int pack) {
  if (channels_last) {
    if constexpr (sizeof(T) == 2) {
      if (pack == 2) {
        static const int r = resident_blocks(partial_nhwc<kind, 2, T, float>);
        return r;
      }
    }
    static const int r = resident_blocks(partial_nhwc<kind, 1, T, float>);
    return r;
  }
  if (pack == 4) {
    static const int r = resident_blocks(partial_nchw<kind, 4, T, float>);
    return r;
  }
  static const int r = resident_blocks(partial_nchw<kind, 1, T, float>);
  return r;
}

// Ranges per channel: two full waves of resident blocks in all (rounded down, so no nearly empty
// third wave: these kernels use 40-64 registers, 4-6 blocks per SM), each range at least `least`
// values (rows).
int64_t chunk_count(const Context& ctx, int64_t values, int64_t channel_blocks, int64_t least, int per_sm) {
  const int64_t sms = ctx.props.multiProcessorCount > 0 ? ctx.props.multiProcessorCount : 80;
  const int64_t want = 2 * per_sm * sms / channel_blocks;
  const int64_t most = std::max<int64_t>(1, std::min<int64_t>(4096, (values + least - 1) / least));
  return std::max<int64_t>(1, std::min(want, most));
}

inline bool aligned_to(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// a and b: the tensors the partial sums of `kind` will read.
template <Sum kind, typename T>
Status init_work(Work& w, const Context& ctx, const char* op, const T* a, const T* b, int64_t n, int64_t c, int64_t hw,
                 bool channels_last) {
  // NHWC: 2 adjacent channels a thread for 16-bit values; NCHW: 4 adjacent positions.
  const int64_t along = channels_last ? c : hw;
  const int want = channels_last ? (sizeof(T) == 2 ? 2 : 1) : 4;
  const uintptr_t bytes = static_cast<uintptr_t>(want) * sizeof(T);
  w.pack = want > 1 && along % want == 0 && aligned_to(a, bytes) && aligned_to(b, bytes) ? want : 1;
  const int per_sm = partial_residency<kind, T>(channels_last, w.pack);
  const int64_t chunks = channels_last
                             ? chunk_count(ctx, n * hw, (c + kTileC * w.pack - 1) / (kTileC * w.pack), 64, per_sm)
                             : chunk_count(ctx, n * hw, c, 2048, per_sm);
  return w.init(op, c, chunks);
}

// Per-channel sums of `kind` into w.p1 and w.p2, in either layout.
template <Sum kind, typename T, typename C>
Status partials(Context& ctx, const char* op, Work& w, const T* a, const T* b, const C* center, int64_t n, int64_t c,
                int64_t hw, bool channels_last) {
  if (channels_last) {
    const int64_t tiles = (c + kTileC * w.pack - 1) / (kTileC * w.pack);
    const dim3 grid(static_cast<unsigned>(w.chunks), static_cast<unsigned>(std::min<int64_t>(tiles, 65535)));
    if constexpr (sizeof(T) == 2) {
      if (w.pack == 2) {
        partial_nhwc<kind, 2><<<grid, dim3(kTileC, kTileR), 0, ctx.stream>>>(w.p1, w.p2, a, b, center, n * hw, c, w.chunks);
        return check_launch(ctx, op);
      }
    }
    partial_nhwc<kind, 1><<<grid, dim3(kTileC, kTileR), 0, ctx.stream>>>(w.p1, w.p2, a, b, center, n * hw, c, w.chunks);
  } else {
    const dim3 grid(static_cast<unsigned>(w.chunks), static_cast<unsigned>(std::min<int64_t>(c, 65535)));
    if (w.pack == 4) {
      partial_nchw<kind, 4><<<grid, kThreads, 0, ctx.stream>>>(w.p1, w.p2, a, b, center, n, c, hw, w.chunks);
    } else {
      partial_nchw<kind, 1><<<grid, kThreads, 0, ctx.stream>>>(w.p1, w.p2, a, b, center, n, c, hw, w.chunks);
    }
  }
  return check_launch(ctx, op);
}

// One warp per channel adds the channel's partials (lanes over the chunks, then a fixed xor tree)
// and calls f(ch, total of p1, total of p2) on lane 0. The loop bound is uniform over the warp.
template <typename F>
__global__ void finish_kernel(F f, const double* p1, const double* p2, int64_t c, int64_t chunks) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = gridDim.x * static_cast<int64_t>(blockDim.x) / 32;
  for (int64_t ch = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32; ch < c; ch += warps) {
    double s1 = 0.0, s2 = 0.0;
    for (int64_t k = lane; k < chunks; k += 32) {
      s1 += p1[ch * chunks + k];
      s2 += p2[ch * chunks + k];
    }
    s1 = warp_reduce(s1, SumOp{});
    s2 = warp_reduce(s2, SumOp{});
    if (lane == 0) f(ch, s1, s2);
  }
}

template <typename F>
Status finish(Context& ctx, const char* op, const Work& w, int64_t c, F f) {
  finish_kernel<<<grid_for(ctx, c * 32), kThreads, 0, ctx.stream>>>(f, w.p1, w.p2, c, w.chunks);
  return check_launch(ctx, op);
}

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
