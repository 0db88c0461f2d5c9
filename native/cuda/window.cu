// CUDA window ops of Swin Transformer (timm's swin_transformer.py), as native/cpu/window.cc: the
// cyclic shift fused with the window partition and its inverse, the gather of the relative
// position bias table and its backward, and the shifted-window mask added to attention logits.
// Own kernels (pure index math, no library call); the index math is native/shared/window_math.h,
// the same the CPU backend runs.
//   Partition / reverse: one thread per unit of a token's channels, moved as raw 16-, 8-, 4-, 2- or
//   1-byte values (exact for every dtype); consecutive threads move consecutive units of a
//   token, so reads and writes are coalesced.
//   Relative position bias forward: one thread per (head, i, j) of y.
//   Backward: deterministic without atomics, one thread per table entry (row, head) walking the
//   n * n positions in (i, j) order through shared-memory tiles of the index and summing the dy of
//   those that name its row in double: the CPU's order and arithmetic, so the same bits.
//   Mask add: a block per attention plane, y = x + mask in float, rounded once (y may alias x).
//   Index checks: the CPU reports an index outside [0, num_rel); here that would need a host
//   wait, so such an index reads as 0 in the forward and is skipped in the backward.
// The functors are __host__ __device__ (LW_HD), so their index math can also be run on the host
// against the CPU backend where no GPU is at hand.
#include <string>

#include "cuda/context.h"
#include "shared/window_math.h"

namespace layerwise::cuda {

namespace {

Status check_windows(const char* op, DType dtype, int64_t batch, int64_t h, int64_t w, int64_t c,
                     int64_t window_size) {
  auto sizes = {std::pair<const char*, int64_t>{"batch", batch}, {"h", h}, {"w", w}, {"c", c},
                {"window_size", window_size}};
  LW_STATUS_TRY(check_sizes(op, sizes));
  if (window_size < 1) return Status::Invalid(op, "window_size must be positive (" + describe(sizes) + ")");
  if (h % window_size != 0 || w % window_size != 0)
    return Status::Invalid(op, "h and w must be multiples of window_size (" + describe(sizes) + ")");
  if (dtype_size(dtype) == 0) return Status::Invalid(op, "unknown dtype");
  return Status::Ok();
}

// Unit e = (token, ch) of the windows tensor (c units a token), token = (win * ws + r) * ws + q;
// the map unit is (window_map_index(win, r, q), ch). to_windows: dst is the windows tensor, else
// the map.
template <typename E>
struct MoveWindows {
  E* dst;
  const E* src;
  shared::WindowGrid g;
  int64_t c;
  bool to_windows;
  LW_HD void operator()(int64_t e) const {
    const int64_t ch = e % c, token = e / c;
    const int64_t q = token % g.ws, r = (token / g.ws) % g.ws, win = token / (g.ws * g.ws);
    const int64_t m = shared::window_map_index(g, win, r, q) * c + ch;
    if (to_windows) {
      dst[e] = src[m];
    } else {
      dst[m] = src[e];
    }
  }
};

// Tokens move as rows of `units` units of E (the widest of 16, 8, 4, 2 or 1 bytes that divides a
// row and both pointers): a 16-byte unit spends the index math once per 8 bfloat16 channels
// instead of once per channel, and moves with one 128-bit load and store.
template <typename E>
Status launch_windows(Context& ctx, const char* op, bool to_windows, void* dst, const void* src, int64_t tokens,
                      int64_t row_bytes, const shared::WindowGrid& g) {
  const int64_t units = row_bytes / static_cast<int64_t>(sizeof(E));
  return launch_for(ctx, op, tokens * units,
                    MoveWindows<E>{static_cast<E*>(dst), static_cast<const E*>(src), g, units, to_windows});
}

Status run_windows(Context& ctx, const char* op, bool to_windows, void* dst, const void* src, DType dtype,
                   int64_t batch, int64_t h, int64_t w, int64_t c, int64_t ws, int64_t shift) {
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_windows(op, dtype, batch, h, w, c, ws));
  const shared::WindowGrid g = shared::window_grid(h, w, ws, shift);
  const int64_t tokens = batch * h * w;
  const int64_t row_bytes = c * dtype_size(dtype);
  const uintptr_t addresses = reinterpret_cast<uintptr_t>(dst) | reinterpret_cast<uintptr_t>(src);
  const auto fits = [&](int64_t unit) { return row_bytes % unit == 0 && addresses % static_cast<uintptr_t>(unit) == 0; };
  if (fits(16)) return launch_windows<uint4>(ctx, op, to_windows, dst, src, tokens, row_bytes, g);
  if (fits(8)) return launch_windows<uint2>(ctx, op, to_windows, dst, src, tokens, row_bytes, g);
  if (fits(4)) return launch_windows<uint32_t>(ctx, op, to_windows, dst, src, tokens, row_bytes, g);
  if (fits(2)) return launch_windows<uint16_t>(ctx, op, to_windows, dst, src, tokens, row_bytes, g);
  return launch_windows<uint8_t>(ctx, op, to_windows, dst, src, tokens, row_bytes, g);
}

Status check_bias(const char* op, int64_t heads, int64_t n, int64_t num_rel) {
  return check_sizes(op, {{"heads", heads}, {"n", n}, {"num_rel", num_rel}});
}

template <typename T>
struct BiasGather {
  T* y;
  const float* table;
  const int32_t* index;
  int64_t heads, nn, num_rel;
  LW_HD void operator()(int64_t e) const {
    const int64_t hd = e / nn, k = e % nn;
    const int64_t row = index[k];
    y[e] = from_f32<T>(row >= 0 && row < num_rel ? table[row * heads + hd] : 0.0f);
  }
};

constexpr int kIndexTile = 1024;  // index values per shared-memory tile

// dtable[e], e = row * heads + hd: the sum over k in order of dy[hd, k] where index[k] == row.
// add_tile adds the positions [k0, k0 + len) of one tile of the index to a running sum.
template <typename T>
struct BiasScatter {
  float* dtable;
  const T* dy;
  int64_t heads, nn;
  LW_HD double add_tile(int64_t e, const int32_t* tile, int64_t k0, int64_t len, double acc) const {
    const int64_t row = e / heads;
    const T* g = dy + (e % heads) * nn + k0;
    for (int64_t t = 0; t < len; t++)
      if (tile[t] == row) acc += static_cast<double>(to_f32(g[t]));
    return acc;
  }
  LW_HD void store(int64_t e, double acc) const { dtable[e] = static_cast<float>(acc); }
};

// One thread per entry; every thread of a block takes part in loading each tile of the index into
// shared memory (entries past the table only load).
template <typename T>
__global__ void bias_scatter_kernel(BiasScatter<T> op, const int32_t* index, int64_t entries) {
  __shared__ int32_t tile[kIndexTile];
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  double acc = 0.0;
  for (int64_t k0 = 0; k0 < op.nn; k0 += kIndexTile) {
    const int64_t len = op.nn - k0 < kIndexTile ? op.nn - k0 : kIndexTile;
    __syncthreads();  // the previous tile is no longer read
    for (int64_t t = threadIdx.x; t < len; t += blockDim.x) tile[t] = index[k0 + t];
    __syncthreads();
    if (e < entries) acc = op.add_tile(e, tile, k0, len, acc);
  }
  if (e < entries) op.store(e, acc);
}

// Plane p of the (batch * num_windows * heads) planes of n * n logits adds mask window
// mask_window(p): elements k0, k0 + step, ... of it, so the window is found once per plane rather
// than with 64-bit divisions per element.
template <typename T>
struct MaskAdd {
  T* y;
  const T* x;
  const float* mask;
  int64_t heads, num_windows, nn;
  LW_HD void plane(int64_t p, int64_t k0, int64_t step) const {
    const float* m = mask + shared::mask_window(p, heads, num_windows) * nn;
    const T* xp = x + p * nn;
    T* yp = y + p * nn;
    for (int64_t k = k0; k < nn; k += step) yp[k] = from_f32<T>(to_f32(xp[k]) + m[k]);
  }
};

// A block per plane, the grid striding over the planes.
template <typename T>
__global__ void __launch_bounds__(kThreads) mask_add_kernel(MaskAdd<T> op, int64_t planes) {
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) op.plane(p, threadIdx.x, blockDim.x);
}

}  // namespace

Status window_partition_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t h,
                                int64_t w, int64_t c, int64_t window_size, int64_t shift) {
  return run_windows(ctx, "window_partition_forward", true, y, x, dtype, batch, h, w, c, window_size, shift);
}

Status window_reverse_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t h,
                              int64_t w, int64_t c, int64_t window_size, int64_t shift) {
  return run_windows(ctx, "window_reverse_forward", false, y, x, dtype, batch, h, w, c, window_size, shift);
}

Status relative_position_bias_forward(Context& ctx, void* y, const float* table, const int32_t* index,
                                      DType dtype, int64_t heads, int64_t n, int64_t num_rel) {
  const char* op = "relative_position_bias_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_bias(op, heads, n, num_rel));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, heads * n * n, BiasGather<T>{static_cast<T*>(y), table, index, heads, n * n, num_rel});
  });
}

Status relative_position_bias_backward(Context& ctx, float* dtable, const void* dy, const int32_t* index,
                                       DType dtype, int64_t heads, int64_t n, int64_t num_rel) {
  const char* op = "relative_position_bias_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_bias(op, heads, n, num_rel));
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    const int64_t entries = num_rel * heads;
    if (entries == 0) return Status::Ok();
    const int64_t blocks = (entries + kThreads - 1) / kThreads;
    if (blocks > 0x7fffffff) return Status::Invalid(op, "too many table entries (" + describe({{"heads", heads}, {"num_rel", num_rel}}) + ")");
    bias_scatter_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, ctx.stream>>>(
        BiasScatter<T>{dtable, static_cast<const T*>(dy), heads, n * n}, index, entries);
    return check_launch(ctx, op);
  });
}

Status window_mask_add_forward(Context& ctx, void* y, const void* x, const float* mask, DType dtype,
                               int64_t batch, int64_t num_windows, int64_t heads, int64_t n) {
  const char* op = "window_mask_add_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"batch", batch}, {"num_windows", num_windows}, {"heads", heads}, {"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const int64_t planes = batch * num_windows * heads;
    if (planes == 0 || n == 0) return Status::Ok();
    const int64_t sms = ctx.props.multiProcessorCount > 0 ? ctx.props.multiProcessorCount : 80;
    const int64_t max_blocks = sms * 32;
    const unsigned blocks = static_cast<unsigned>(planes < max_blocks ? planes : max_blocks);
    mask_add_kernel<T><<<blocks, kThreads, 0, ctx.stream>>>(
        MaskAdd<T>{static_cast<T*>(y), static_cast<const T*>(x), mask, heads, num_windows, n * n}, planes);
    return check_launch(ctx, op);
  });
}

}  // namespace layerwise::cuda
