// CUDA per-channel reductions of the elementwise family (kernels/elementwise.h):
// bias_add_backward (dbias[c] = sum of dy) and channel_mul_backward_scale (dscale[c] = sum of
// dy * x) over (outer, channels, inner), for float32, bfloat16 and float16 storage. As
// native/cpu/elementwise.cc, every term (native/shared/elementwise_math.h's channel_term) is
// added in double and the sum rounded once. A block per (channel, slice of the outer rows) for
// inner > 1, or 32x8 tiles of (channels x rows) for inner == 1 (linear layers, channels-last), so
// the loads stay coalesced; with more than one slice the double partial sums go through a
// scratch buffer and a second kernel adds them in slice order. The slicing depends only on the
// sizes and every combination runs in a fixed order: results are the same on every device and
// run. No cuBLAS/cuDNN; reference: CUDA C++ Programming Guide (shared memory reductions).
#include "cuda/context.h"
#include "cuda/reduce_block.h"
#include "shared/elementwise_math.h"

namespace layerwise::cuda {

namespace {

// One term of a channel reduction: dy (b == nullptr) or dy * x.
template <typename T>
__device__ __forceinline__ double channel_term_at(const T* a, const T* b, int64_t e) {
  return b == nullptr ? shared::channel_term(to_f32(a[e])) : shared::channel_term(to_f32(a[e]), to_f32(b[e]));
}

// Writes the sum of channel c of slice s: to out[c] directly (one slice) or to partial[s, c].
template <typename T>
__device__ __forceinline__ void channel_store(T* out, double* partial, int64_t s, int64_t channels, int64_t c, double v) {
  if (partial == nullptr) {
    out[c] = from_f32<T>(static_cast<float>(v));
  } else {
    partial[s * channels + c] = v;
  }
}

// inner > 1: block (c, s) sums channel c over rows [s * rows_per_slice, ...) and all of inner,
// the threads walking (o, i) in steps of blockDim.x without a division per element.
template <typename T>
__global__ void channel_sum_segments(T* out, double* partial, const T* a, const T* b, int64_t outer,
                                     int64_t channels, int64_t inner, int64_t rows_per_slice) {
  const int64_t c = blockIdx.x;
  const int64_t s = blockIdx.y;
  const int64_t o0 = s * rows_per_slice;
  const int64_t o1 = o0 + rows_per_slice < outer ? o0 + rows_per_slice : outer;
  const int64_t count = o1 > o0 ? (o1 - o0) * inner : 0;
  const int64_t step = blockDim.x;
  const int64_t step_o = step / inner, step_i = step % inner;
  int64_t o = o0 + threadIdx.x / inner, i = threadIdx.x % inner;
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < count; j += step) {
    acc += channel_term_at(a, b, (o * channels + c) * inner + i);
    o += step_o;
    i += step_i;
    if (i >= inner) {
      i -= inner;
      o++;
    }
  }
  __shared__ double smem[32];
  acc = block_reduce(acc, SumOp{}, smem);
  if (threadIdx.x == 0) channel_store(out, partial, s, channels, c, acc);
}

constexpr int kTileChannels = 32;
constexpr int kTileRows = 8;

// inner == 1: block (tile, s) with threads (32 channels x 8 rows) sums rows [s * rows_per_slice, ...)
// of 32 neighbouring channels; each warp reads 32 consecutive values of one row.
template <typename T>
__global__ void channel_sum_columns(T* out, double* partial, const T* a, const T* b, int64_t outer,
                                    int64_t channels, int64_t rows_per_slice) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kTileChannels + threadIdx.x;
  const int64_t s = blockIdx.y;
  const int64_t o0 = s * rows_per_slice;
  const int64_t o1 = o0 + rows_per_slice < outer ? o0 + rows_per_slice : outer;
  double acc = 0.0;
  if (c < channels) {
    for (int64_t o = o0 + threadIdx.y; o < o1; o += kTileRows) acc += channel_term_at(a, b, o * channels + c);
  }
  __shared__ double tile[kTileRows][kTileChannels + 1];
  tile[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < channels) {
    double t = tile[0][threadIdx.x];
    for (int r = 1; r < kTileRows; r++) t += tile[r][threadIdx.x];
    channel_store(out, partial, s, channels, c, t);
  }
}

// out[c] = 0: a reduction over no elements (outer or inner is 0).
template <typename T>
struct ChannelZero {
  T* out;
  __device__ void operator()(int64_t c) const { out[c] = from_f32<T>(0.0f); }
};

// out[c] = sum over slices of partial[s, c], in slice order.
template <typename T>
struct ChannelFinish {
  T* out;
  const double* partial;
  int64_t channels, slices;
  __device__ void operator()(int64_t c) const {
    double t = 0.0;
    for (int64_t s = 0; s < slices; s++) t += partial[s * channels + c];
    out[c] = from_f32<T>(static_cast<float>(t));
  }
};

constexpr int64_t kSliceElements = 1 << 15;  // values per channel a block sums at least (inner > 1)
constexpr int64_t kSliceRows = 512;          // rows a tile sums at least (inner == 1)
constexpr int64_t kMaxSlices = 256;

Status check_channels(const char* op, int64_t outer, int64_t channels, int64_t inner) {
  return check_sizes(op, {{"outer", outer}, {"channels", channels}, {"inner", inner}});
}

// out[c] = sum over o, i of a[o, c, i] * (b ? b[o, c, i] : 1), in double.
template <typename T>
Status channel_sums(Context& ctx, const char* op, T* out, const T* a, const T* b, int64_t outer,
                    int64_t channels, int64_t inner) {
  LW_STATUS_TRY(check_channels(op, outer, channels, inner));
  if (channels == 0) return Status::Ok();
  if (outer == 0 || inner == 0) return launch_for(ctx, op, channels, ChannelZero<T>{out});
  const int64_t per_slice_min = inner == 1 ? kSliceRows : (kSliceElements + inner - 1) / inner;
  int64_t slices = (outer + per_slice_min - 1) / per_slice_min;
  slices = slices < 1 ? 1 : (slices > kMaxSlices ? kMaxSlices : slices);
  const int64_t rows_per_slice = (outer + slices - 1) / slices;
  slices = (outer + rows_per_slice - 1) / rows_per_slice;  // no empty slice
  const int64_t grid_x = inner == 1 ? (channels + kTileChannels - 1) / kTileChannels : channels;
  if (grid_x > 0x7fffffff)
    return Status::Invalid(op, "too many channels for one grid (" + describe({{"outer", outer}, {"channels", channels}, {"inner", inner}}) + ")");
  double* partial = nullptr;
  if (slices > 1) {
    LW_STATUS_TRY(scratch_alloc(ctx, op, reinterpret_cast<void**>(&partial), slices * channels * static_cast<int64_t>(sizeof(double))));
  }
  const dim3 grid(static_cast<unsigned>(grid_x), static_cast<unsigned>(slices));
  if (inner == 1) {
    channel_sum_columns<T><<<grid, dim3(kTileChannels, kTileRows), 0, ctx.stream>>>(out, partial, a, b, outer, channels, rows_per_slice);
  } else {
    channel_sum_segments<T><<<grid, kThreads, 0, ctx.stream>>>(out, partial, a, b, outer, channels, inner, rows_per_slice);
  }
  Status st = check_launch(ctx, op);
  if (st.ok() && partial != nullptr) st = launch_for(ctx, op, channels, ChannelFinish<T>{out, partial, channels, slices});
  if (partial != nullptr) scratch_free(ctx, partial);
  return st;
}

}  // namespace

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status bias_add_backward(Context& ctx, void* dbias, const void* dy, DType dtype, int64_t outer, int64_t channels,
                         int64_t inner) {
  const char* op = "bias_add_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return channel_sums<T>(ctx, op, LW_TYPED(dbias), LW_CTYPED(dy), nullptr, outer, channels, inner);
  });
}

Status channel_mul_backward_scale(Context& ctx, void* dscale, const void* dy, const void* x, DType dtype,
                                  int64_t outer, int64_t channels, int64_t inner) {
  const char* op = "channel_mul_backward_scale";
  LW_STATUS_TRY(check_context(ctx, op));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return channel_sums<T>(ctx, op, LW_TYPED(dscale), LW_CTYPED(dy), LW_CTYPED(x), outer, channels, inner);
  });
}

#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cuda
