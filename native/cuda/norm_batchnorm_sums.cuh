// The per-channel sums of the CUDA BatchNorm (norm_batchnorm.cu, whose header comment explains the
// method): the partial-sum kernels over fixed ranges of each channel, NCHW and NHWC, their scratch,
// the range count from the kernels' residency, and the warp per channel that adds the partials in
// a fixed order. Included by norm_batchnorm.cu only.
#pragma once
#include <algorithm>

#include "cuda/context.h"
#include "cuda/reduce_block.h"

namespace layerwise::cuda::batchnorm {

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
inline int64_t chunk_count(const Context& ctx, int64_t values, int64_t channel_blocks, int64_t least, int per_sm) {
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

}  // namespace layerwise::cuda::batchnorm
