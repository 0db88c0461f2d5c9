// Swin Transformer's window ops on the CPU (timm's swin_transformer.py): the cyclic shift fused
// with the window partition and its inverse (window reverse with the roll back), the gather of the
// relative position bias table and its scatter-add backward, and the shifted-window attention
// mask added to the attention logits.
// The index math is shared/window_math.h, which the CUDA backend (native/cuda/window.cu) runs too.
//   Partition / reverse: pure data movement of c-element rows, so any dtype is exact; OpenMP over
//   (window, token row), each thread copying ws rows of c contiguous elements. The two are inverse
//   permutations, so the backward of each is the other's forward (the contract has no separate
//   backward kernels). torch.roll(x, -shift) then window_partition equals reading the token map at
//   ((wh*ws + r + shift) mod h, (ww*ws + q + shift) mod w) for token (r, q) of window (b, wh, ww).
//   Errors: h or w not a multiple of window_size, window_size < 1, a negative size.
//   Relative position bias: the gather runs over heads x n x n (the float32 table rounded once to
//   y's dtype); the backward runs one head per thread, summing in double in (i, j) order, so the
//   result does not depend on the thread count; table rows no index names get 0. An index outside
//   [0, num_rel) is an error naming the first one.
//   Mask add: y = x + mask[window] in float, rounded once; the window of plane p (of
//   batch*num_windows*heads planes) is (p / heads) mod num_windows, as timm's
//   attn.view(-1, nW, heads, N, N) + mask.unsqueeze(1).unsqueeze(0).
#include <cstring>
#include <string>
#include <vector>

#include "cpu/context.h"
#include "shared/window_math.h"

namespace layerwise::cpu {

using shared::WindowGrid;
using shared::window_grid;
using shared::window_map_index;

namespace {

constexpr int64_t kParallelElements = 16384;
constexpr int64_t kParallelBias = 1 << 20;  // a gather of a few cached rows: threads only pay off for many heads

Status check_windows(const char* op, DType dtype, int64_t batch, int64_t h, int64_t w, int64_t c,
                     int64_t window_size) {
  auto sizes = {std::pair<const char*, int64_t>{"batch", batch}, {"h", h}, {"w", w}, {"c", c},
                {"window_size", window_size}};
  LW_RETURN_IF_ERROR(check_sizes(op, sizes));
  if (window_size < 1) return Status::Invalid(op, "window_size must be positive (" + describe(sizes) + ")");
  if (h % window_size != 0 || w % window_size != 0)
    return Status::Invalid(op, "h and w must be multiples of window_size (" + describe(sizes) + ")");
  if (dtype_size(dtype) == 0) return Status::Invalid(op, "unknown dtype");
  return Status::Ok();
}

// to_windows: windows[win, r*ws + q, :] = map[b, src(wh*ws + r), src(ww*ws + q), :]; otherwise the
// inverse (map from windows). Element size in bytes; rows of c elements move with memcpy.
void move_windows(bool to_windows, uint8_t* dst, const uint8_t* src, int64_t elem, int64_t batch,
                  int64_t h, int64_t w, int64_t c, int64_t ws, int64_t shift) {
  const WindowGrid g = window_grid(h, w, ws, shift);
  const int64_t row_bytes = c * elem;
  const int64_t rows = batch * g.nh * g.nw * ws;  // (window, r) pairs
#pragma omp parallel for schedule(static) if (rows * ws * c > kParallelElements)
  for (int64_t t = 0; t < rows; t++) {
    const int64_t r = t % ws;
    const int64_t win = t / ws;
    const int64_t win_row = (win * ws + r) * ws;
    for (int64_t q = 0; q < ws; q++) {
      const int64_t map_index = window_map_index(g, win, r, q);
      const int64_t win_index = win_row + q;
      if (to_windows) {
        std::memcpy(dst + win_index * row_bytes, src + map_index * row_bytes, static_cast<size_t>(row_bytes));
      } else {
        std::memcpy(dst + map_index * row_bytes, src + win_index * row_bytes, static_cast<size_t>(row_bytes));
      }
    }
  }
}

Status run_windows(const char* op, bool to_windows, void* dst, const void* src, DType dtype,
                   int64_t batch, int64_t h, int64_t w, int64_t c, int64_t ws, int64_t shift) {
  LW_RETURN_IF_ERROR(check_windows(op, dtype, batch, h, w, c, ws));
  move_windows(to_windows, static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(src), dtype_size(dtype),
               batch, h, w, c, ws, shift);
  return Status::Ok();
}

Status check_index(const char* op, const int32_t* index, int64_t heads, int64_t n, int64_t num_rel) {
  auto sizes = {std::pair<const char*, int64_t>{"heads", heads}, {"n", n}, {"num_rel", num_rel}};
  LW_RETURN_IF_ERROR(check_sizes(op, sizes));
  for (int64_t k = 0; k < n * n; k++) {
    if (index[k] < 0 || index[k] >= num_rel)
      return Status::Invalid(op, "index[" + std::to_string(k) + "] = " + std::to_string(index[k]) +
                                     " is outside [0, num_rel) (" + describe(sizes) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status window_partition_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t h,
                                int64_t w, int64_t c, int64_t window_size, int64_t shift) {
  return run_windows("window_partition_forward", true, y, x, dtype, batch, h, w, c, window_size, shift);
}

Status window_reverse_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t h,
                              int64_t w, int64_t c, int64_t window_size, int64_t shift) {
  return run_windows("window_reverse_forward", false, y, x, dtype, batch, h, w, c, window_size, shift);
}

Status relative_position_bias_forward(Context& ctx, void* y, const float* table, const int32_t* index,
                                      DType dtype, int64_t heads, int64_t n, int64_t num_rel) {
  const char* op = "relative_position_bias_forward";
  LW_RETURN_IF_ERROR(check_index(op, index, heads, n, num_rel));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    T* yt = static_cast<T*>(y);
    const int64_t nn = n * n;
#pragma omp parallel for schedule(static) if (heads * nn > kParallelBias)
    for (int64_t hd = 0; hd < heads; hd++) {
      for (int64_t k = 0; k < nn; k++) yt[hd * nn + k] = from_f32<T>(table[static_cast<int64_t>(index[k]) * heads + hd]);
    }
    return Status::Ok();
  });
}

Status relative_position_bias_backward(Context& ctx, float* dtable, const void* dy, const int32_t* index,
                                       DType dtype, int64_t heads, int64_t n, int64_t num_rel) {
  const char* op = "relative_position_bias_backward";
  LW_RETURN_IF_ERROR(check_index(op, index, heads, n, num_rel));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* dyt = static_cast<const T*>(dy);
    const int64_t nn = n * n;
    bool failed = false;
#pragma omp parallel for schedule(static) if (heads * nn > kParallelBias / 4)
    for (int64_t hd = 0; hd < heads; hd++) {
      std::vector<double> acc;
      try {
        acc.assign(static_cast<size_t>(num_rel), 0.0);
      } catch (...) {
#pragma omp atomic write
        failed = true;
        continue;
      }
      const T* g = dyt + hd * nn;
      for (int64_t k = 0; k < nn; k++) acc[static_cast<size_t>(index[k])] += static_cast<double>(to_f32(g[k]));
      for (int64_t r = 0; r < num_rel; r++) dtable[r * heads + hd] = static_cast<float>(acc[static_cast<size_t>(r)]);
    }
    if (failed) return Status::Error(StatusCode::kOutOfMemory, op, "no memory for the accumulator (" + describe({{"heads", heads}, {"n", n}, {"num_rel", num_rel}}) + ")");
    return Status::Ok();
  });
}

Status window_mask_add_forward(Context& ctx, void* y, const void* x, const float* mask, DType dtype,
                               int64_t batch, int64_t num_windows, int64_t heads, int64_t n) {
  const char* op = "window_mask_add_forward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"num_windows", num_windows}, {"heads", heads}, {"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    T* yt = static_cast<T*>(y);
    const T* xt = static_cast<const T*>(x);
    const int64_t nn = n * n;
    const int64_t planes = batch * num_windows * heads;
#pragma omp parallel for schedule(static) if (planes * nn > kParallelElements)
    for (int64_t p = 0; p < planes; p++) {
      const float* m = mask + shared::mask_window(p, heads, num_windows) * nn;
      const T* xp = xt + p * nn;
      T* yp = yt + p * nn;
#pragma omp simd
      for (int64_t k = 0; k < nn; k++) yp[k] = from_f32<T>(to_f32(xp[k]) + m[k]);
    }
    return Status::Ok();
  });
}

}  // namespace layerwise::cpu
