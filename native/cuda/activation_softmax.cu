// CUDA row-wise softmax over the last dimension (kernels/activation.h), forward and backward, for
// float32, bfloat16 and float16 storage, as native/cpu/activation.cc: the row max in float,
// exp_f32(x - max) (native/shared/activation_math.h, the CPU's exp), the sum in double, one
// float reciprocal, and the backward y * (dy - sum_j dy_j y_j) with the dot product in double.
// A row of at most kWarpRowCols columns goes to one warp (8 rows per block) that keeps the row in
// registers, a wider row to a block of 256 threads that reads it again for each pass; the
// reductions are reduce_block.h's fixed-order shuffles. y (dx) may
// alias x (dy): every thread writes only the columns it read, after the row's reductions.
// No cuDNN (cudnnSoftmaxForward would not reproduce the CPU's exp and double sum); reference:
// CUDA C++ Programming Guide, "Warp Shuffle Functions"; torch.nn.Softmax(dim=-1).
#include <cmath>

#include "cuda/context.h"
#include "cuda/reduce_block.h"
#include "shared/activation_math.h"

namespace layerwise::cuda {

namespace {

template <typename T, bool kWarp>
__global__ void softmax_forward_kernel(T* y, const T* x, int64_t rows, int64_t cols) {
  __shared__ float smax[32];
  __shared__ double ssum[32];
  const RowGroup<kWarp> g;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const T* xr = x + r * cols;  // (cols)
    T* yr = y + r * cols;        // (cols)
    float m = -INFINITY;
    for (int64_t j = g.lane; j < cols; j += g.size) {
      const float v = to_f32(xr[j]);
      m = v > m ? v : m;
    }
    m = g.reduce(m, MaxOp{}, smax);
    double s = 0.0;
    for (int64_t j = g.lane; j < cols; j += g.size) s += static_cast<double>(shared::exp_f32(to_f32(xr[j]) - m));
    s = g.reduce(s, SumOp{}, ssum);
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t j = g.lane; j < cols; j += g.size) yr[j] = from_f32<T>(shared::exp_f32(to_f32(xr[j]) - m) * inv);
  }
}

template <typename T, bool kWarp>
__global__ void softmax_backward_kernel(T* dx, const T* dy, const T* y, int64_t rows, int64_t cols) {
  __shared__ double ssum[32];
  const RowGroup<kWarp> g;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const T* dyr = dy + r * cols;  // (cols)
    const T* yr = y + r * cols;    // (cols)
    T* dxr = dx + r * cols;        // (cols)
    double s = 0.0;
    for (int64_t j = g.lane; j < cols; j += g.size)
      s += static_cast<double>(to_f32(dyr[j])) * static_cast<double>(to_f32(yr[j]));
    s = g.reduce(s, SumOp{}, ssum);
    const float sf = static_cast<float>(s);
    for (int64_t j = g.lane; j < cols; j += g.size) dxr[j] = from_f32<T>(shared::softmax_grad(to_f32(yr[j]), to_f32(dyr[j]), sf));
  }
}

// Rows of at most 32 * K columns: one warp per row, each lane keeping its K values in registers,
// so x (or y and dy) is read from memory once and the exponentials are computed once. The same
// arithmetic per element as the kernels above (exp_f32(x - max) * inv; y * (dy - dot)).
template <typename T, int K>
__global__ void __launch_bounds__(kRowThreads) softmax_forward_regs(T* y, const T* x, int64_t rows, int64_t cols) {
  const RowGroup<true> g;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const T* xr = x + r * cols;  // (cols)
    T* yr = y + r * cols;        // (cols)
    float v[K];
    float m = -INFINITY;
#pragma unroll
    for (int k = 0; k < K; k++) {
      const int64_t j = g.lane + 32 * k;
      v[k] = j < cols ? to_f32(xr[j]) : -INFINITY;
      m = v[k] > m ? v[k] : m;
    }
    m = warp_reduce(m, MaxOp{});
    double s = 0.0;
#pragma unroll
    for (int k = 0; k < K; k++) {
      if (g.lane + 32 * k < cols) {
        v[k] = shared::exp_f32(v[k] - m);
        s += static_cast<double>(v[k]);
      }
    }
    s = warp_reduce(s, SumOp{});
    const float inv = static_cast<float>(1.0 / s);
#pragma unroll
    for (int k = 0; k < K; k++) {
      const int64_t j = g.lane + 32 * k;
      if (j < cols) yr[j] = from_f32<T>(v[k] * inv);
    }
  }
}

template <typename T, int K>
__global__ void __launch_bounds__(kRowThreads) softmax_backward_regs(T* dx, const T* dy, const T* y, int64_t rows,
                                                                     int64_t cols) {
  const RowGroup<true> g;
  for (int64_t r = g.first; r < rows; r += g.stride) {
    const T* dyr = dy + r * cols;  // (cols)
    const T* yr = y + r * cols;    // (cols)
    T* dxr = dx + r * cols;        // (cols)
    float vy[K], vd[K];
    double s = 0.0;
#pragma unroll
    for (int k = 0; k < K; k++) {
      const int64_t j = g.lane + 32 * k;
      vy[k] = j < cols ? to_f32(yr[j]) : 0.0f;
      vd[k] = j < cols ? to_f32(dyr[j]) : 0.0f;
      s += static_cast<double>(vd[k]) * static_cast<double>(vy[k]);
    }
    s = warp_reduce(s, SumOp{});
    const float sf = static_cast<float>(s);
#pragma unroll
    for (int k = 0; k < K; k++) {
      const int64_t j = g.lane + 32 * k;
      if (j < cols) dxr[j] = from_f32<T>(shared::softmax_grad(vy[k], vd[k], sf));
    }
  }
}

// Registers per lane for a warp row: the smallest of 2, 8 and 32 that holds cols / 32 (0: a block row).
inline int lane_values(int64_t cols) { return cols <= 64 ? 2 : cols <= 256 ? 8 : cols <= kWarpRowCols ? 32 : 0; }

}  // namespace

Status softmax_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t rows, int64_t cols) {
  const char* op = "softmax_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (rows == 0 || cols == 0) return Status::Ok();
    T* yt = static_cast<T*>(y);
    const T* xt = static_cast<const T*>(x);
    const unsigned warp_grid = row_blocks(rows, true);
    switch (lane_values(cols)) {
      case 2: softmax_forward_regs<T, 2><<<warp_grid, kRowThreads, 0, ctx.stream>>>(yt, xt, rows, cols); break;
      case 8: softmax_forward_regs<T, 8><<<warp_grid, kRowThreads, 0, ctx.stream>>>(yt, xt, rows, cols); break;
      case 32: softmax_forward_regs<T, 32><<<warp_grid, kRowThreads, 0, ctx.stream>>>(yt, xt, rows, cols); break;
      default:
        softmax_forward_kernel<T, false><<<row_blocks(rows, false), kRowThreads, 0, ctx.stream>>>(yt, xt, rows, cols);
    }
    return check_launch(ctx, op);
  });
}

Status softmax_backward(Context& ctx, void* dx, const void* dy, const void* y, DType dtype, int64_t rows,
                        int64_t cols) {
  const char* op = "softmax_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (rows == 0 || cols == 0) return Status::Ok();
    T* dxt = static_cast<T*>(dx);
    const T* dyt = static_cast<const T*>(dy);
    const T* yt = static_cast<const T*>(y);
    const unsigned warp_grid = row_blocks(rows, true);
    switch (lane_values(cols)) {
      case 2: softmax_backward_regs<T, 2><<<warp_grid, kRowThreads, 0, ctx.stream>>>(dxt, dyt, yt, rows, cols); break;
      case 8: softmax_backward_regs<T, 8><<<warp_grid, kRowThreads, 0, ctx.stream>>>(dxt, dyt, yt, rows, cols); break;
      case 32: softmax_backward_regs<T, 32><<<warp_grid, kRowThreads, 0, ctx.stream>>>(dxt, dyt, yt, rows, cols); break;
      default:
        softmax_backward_kernel<T, false><<<row_blocks(rows, false), kRowThreads, 0, ctx.stream>>>(dxt, dyt, yt, rows,
                                                                                                 cols);
    }
    return check_launch(ctx, op);
  });
}

}  // namespace layerwise::cuda
