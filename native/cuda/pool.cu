// CUDA pooling: max pooling with int32 argmax indices, average pooling and global average pooling,
// forward and backward, NCHW or channels-last NHWC, float32 / bfloat16 / float16 storage. Own
// kernels, no cuDNN (cuDNN's pooling has no argmax output for the contract's indices); the window
// math is native/shared/pool_math.h, the same the CPU backend (native/cpu/pool.cc) runs, and the
// semantics are PyTorch's (aten/src/ATen/native/cuda/DilatedMaxPool2d.cu, AveragePool2d.cu,
// AdaptiveAveragePooling.cu): padding -inf for max (the first maximum wins, a NaN wins), zeros for
// average, window sums in float, global means in double.
//   Forward: one thread per output element; for NHWC consecutive threads are consecutive channels,
//   so every window read is coalesced.
//   Average backward: a gather, one thread per input element summing dy / divisor over the output
//   windows that contain it (shared::windows_containing), in the CPU's (oh, ow) order: the same
//   float sums, no atomics, no scratch.
//   Max backward: the contract gives only the indices (no kernel / stride / padding), so the
//   windows that chose an input cannot be enumerated; each output adds its dy at its index with a
//   float atomicAdd (into dx for float32, into a float scratch rounded once for bfloat16 /
//   float16). An input chosen by one or two windows gets the same bits every run (float addition
//   commutes); one chosen by three or more may differ in the last bit between runs (the order of
//   the atomics). Indices outside [0, in_h * in_w) (the CPU reports them; checking them here would
//   need a host wait) are skipped.
// The functors are __host__ __device__ (LW_HD), so their index math can also be run on the host
// against the CPU backend where no GPU is at hand.
#include <limits>
#include <type_traits>

#include "cuda/context.h"
#include "shared/pool_math.h"

namespace layerwise::cuda {

namespace {

using shared::AvgWindow;

// The checks of native/cpu/pool.cc: sizes, kernel / stride / padding, the last window.
Status check_window(const char* op, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h,
                    int64_t out_w, int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                    int64_t pad_h, int64_t pad_w) {
  auto sizes = {std::pair<const char*, int64_t>{"batch", batch}, {"channels", channels}, {"in_h", in_h},
                {"in_w", in_w}, {"out_h", out_h}, {"out_w", out_w}, {"kernel_h", kernel_h},
                {"kernel_w", kernel_w}, {"stride_h", stride_h}, {"stride_w", stride_w},
                {"pad_h", pad_h}, {"pad_w", pad_w}};
  LW_STATUS_TRY(check_sizes(op, sizes));
  if (kernel_h < 1 || kernel_w < 1 || stride_h < 1 || stride_w < 1)
    return Status::Invalid(op, "kernel and stride must be positive (" + describe(sizes) + ")");
  if (2 * pad_h > kernel_h || 2 * pad_w > kernel_w)
    return Status::Invalid(op, "padding must be at most half the kernel size (" + describe(sizes) + ")");
  if ((out_h > 0 && (out_h - 1) * stride_h - pad_h >= in_h) ||
      (out_w > 0 && (out_w - 1) * stride_w - pad_w >= in_w))
    return Status::Invalid(op, "the last window starts past the input (" + describe(sizes) + ")");
  return Status::Ok();
}

struct Geometry {
  int64_t channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  bool channels_last;
  bool narrow;  // every element index of x and y is below 2^32 (narrow_indices)
};

// Index math in 32-bit unsigned arithmetic: a 64-bit division costs several times a 32-bit one,
// and the coordinates of an element take four of them. The tensors of one call decide (uniformly
// for the whole grid).
inline bool narrow_indices(int64_t batch, int64_t channels, int64_t plane_a, int64_t plane_b) {
  const int64_t plane = plane_a > plane_b ? plane_a : plane_b;
  return batch * channels * plane < (int64_t{1} << 32);
}

// The checked window of a pooling call as its functors take it.
Status window(const char* op, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h,
              int64_t out_w, int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
              int64_t pad_w, bool channels_last, Geometry* g) {
  LW_STATUS_TRY(check_window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w,
                             pad_h, pad_w));
  *g = Geometry{channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                channels_last, narrow_indices(batch, channels, in_h * in_w, out_h * out_w)};
  return Status::Ok();
}

// Element i of a (batch, channels, h, w) tensor in either layout: its (plane position, channel,
// batch), and the offset of position `at` (row-major in h * w) of the same (batch, channel).
struct Coord {
  int64_t pos, c, b;
};
LW_HD Coord coord_of(int64_t i, int64_t channels, int64_t plane, bool channels_last, bool narrow) {
  if (narrow) {
    const uint32_t u = static_cast<uint32_t>(i);
    const uint32_t nc = static_cast<uint32_t>(channels), np = static_cast<uint32_t>(plane);
    if (channels_last) {
      const uint32_t q = u / nc;  // (b, pos)
      return Coord{q % np, u - q * nc, q / np};
    }
    const uint32_t q = u / np;  // (b, c)
    return Coord{u - q * np, q % nc, q / nc};
  }
  if (channels_last) return Coord{(i / channels) % plane, i % channels, i / (channels * plane)};
  return Coord{i % plane, (i / plane) % channels, i / (plane * channels)};
}
// (row, column) of plane position pos in rows of w.
LW_HD void split_pos(int64_t pos, int64_t w, bool narrow, int64_t& row, int64_t& col) {
  if (narrow) {
    const uint32_t r = static_cast<uint32_t>(pos) / static_cast<uint32_t>(w);
    row = r;
    col = static_cast<uint32_t>(pos) - r * static_cast<uint32_t>(w);
    return;
  }
  row = pos / w;
  col = pos % w;
}
LW_HD int64_t offset_of(const Coord& k, int64_t at, int64_t channels, int64_t plane, bool channels_last) {
  return channels_last ? (k.b * plane + at) * channels + k.c : (k.b * channels + k.c) * plane + at;
}

template <typename T>
struct MaxForward {
  T* y;
  int32_t* indices;
  const T* x;
  Geometry g;
  LW_HD void operator()(int64_t i) const {
    const Coord k = coord_of(i, g.channels, g.out_h * g.out_w, g.channels_last, g.narrow);
    int64_t oh, ow;
    split_pos(k.pos, g.out_w, g.narrow, oh, ow);
    int64_t h0, h1, w0, w1;
    shared::max_window(h0, h1, oh, g.stride_h, g.pad_h, g.kernel_h, g.in_h);
    shared::max_window(w0, w1, ow, g.stride_w, g.pad_w, g.kernel_w, g.in_w);
    const int64_t plane = g.in_h * g.in_w;
    int64_t best_index = h0 * g.in_w + w0;
    float best = bits_float(0xff800000u);  // -inf
    for (int64_t ih = h0; ih < h1; ih++)
      for (int64_t iw = w0; iw < w1; iw++) {
        const int64_t at = ih * g.in_w + iw;
        const float v = to_f32(x[offset_of(k, at, g.channels, plane, g.channels_last)]);
        if (shared::max_take(v, best)) {
          best = v;
          best_index = at;
        }
      }
    y[i] = from_f32<T>(best);
    indices[i] = static_cast<int32_t>(best_index);
  }
};

// acc[index of output i] += dy[i] (float atomics; acc zeroed before).
template <typename T>
struct MaxScatter {
  float* acc;
  const T* dy;
  const int32_t* indices;
  int64_t channels, plane_in, plane_out;
  bool channels_last, narrow;
  LW_HD void operator()(int64_t i) const {
    const int64_t at = indices[i];
    if (at < 0 || at >= plane_in) return;
    const Coord k = coord_of(i, channels, plane_out, channels_last, narrow);
    float* target = acc + offset_of(k, at, channels, plane_in, channels_last);
#if defined(__CUDA_ARCH__)
    atomicAdd(target, to_f32(dy[i]));
#else
    *target += to_f32(dy[i]);  // a host run of the functor (one thread)
#endif
  }
};

template <typename T>
struct RoundFloat {
  T* dst;
  const float* src;
  LW_HD void operator()(int64_t i) const { dst[i] = from_f32<T>(src[i]); }
};

template <typename T>
struct AvgForward {
  T* y;
  const T* x;
  Geometry g;
  bool count_include_pad;
  LW_HD void operator()(int64_t i) const {
    const Coord k = coord_of(i, g.channels, g.out_h * g.out_w, g.channels_last, g.narrow);
    const int64_t plane = g.in_h * g.in_w;
    int64_t oh, ow;
    split_pos(k.pos, g.out_w, g.narrow, oh, ow);
    AvgWindow win;
    float sum = 0.0f;
    if (shared::avg_window(win, oh, ow, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h,
                           g.stride_w, g.pad_h, g.pad_w, count_include_pad)) {
      for (int64_t ih = win.h0; ih < win.h1; ih++)
        for (int64_t iw = win.w0; iw < win.w1; iw++)
          sum += to_f32(x[offset_of(k, ih * g.in_w + iw, g.channels, plane, g.channels_last)]);
      sum /= win.divisor;
    }
    y[i] = from_f32<T>(sum);
  }
};

// dx[i] = sum over the output windows containing input i of dy / divisor, in (oh, ow) order.
template <typename T>
struct AvgGather {
  T* dx;
  const T* dy;
  Geometry g;
  bool count_include_pad;
  LW_HD void operator()(int64_t i) const {
    const Coord k = coord_of(i, g.channels, g.in_h * g.in_w, g.channels_last, g.narrow);
    int64_t ih, iw;
    split_pos(k.pos, g.in_w, g.narrow, ih, iw);
    const int64_t plane_out = g.out_h * g.out_w;
    int64_t oh0, oh1, ow0, ow1;
    shared::windows_containing(oh0, oh1, ih, g.out_h, g.kernel_h, g.stride_h, g.pad_h);
    shared::windows_containing(ow0, ow1, iw, g.out_w, g.kernel_w, g.stride_w, g.pad_w);
    float acc = 0.0f;
    for (int64_t oh = oh0; oh < oh1; oh++)
      for (int64_t ow = ow0; ow < ow1; ow++) {
        AvgWindow win;
        if (!shared::avg_window(win, oh, ow, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_h,
                                g.pad_w, count_include_pad))
          continue;
        acc += to_f32(dy[offset_of(k, oh * g.out_w + ow, g.channels, plane_out, g.channels_last)]) / win.divisor;
      }
    dx[i] = from_f32<T>(acc);
  }
};

constexpr int kWarp = 32;

// NCHW global mean: one warp per (batch, channel) plane p of hw contiguous values, sums in double:
// sum(p, lane) is a lane's part, store(p, lane, total) gets the warp's total.
template <typename T>
struct GlobalMeanNchw {
  T* y;
  const T* x;
  int64_t hw;
  double inv;
  LW_HD double sum(int64_t p, int lane) const {
    const T* xp = x + p * hw;
    double s = 0.0;
    for (int64_t j = lane; j < hw; j += kWarp) s += static_cast<double>(to_f32(xp[j]));
    return s;
  }
  LW_HD void store(int64_t p, int lane, double total) const {
    if (lane == 0) y[p] = from_f32<T>(static_cast<float>(total * inv));
  }
};

template <typename T>
__global__ void global_mean_nchw(GlobalMeanNchw<T> op, int64_t planes) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = gridDim.x * static_cast<int64_t>(blockDim.x) / kWarp;
  for (int64_t p = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarp; p < planes; p += warps) {
    double s = op.sum(p, lane);
    for (int o = kWarp / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    op.store(p, lane, s);
  }
}

// NHWC global mean: one thread per (batch, channel), walking hw rows of `channels` values
// (consecutive threads read consecutive channels).
template <typename T>
struct GlobalMeanNhwc {
  T* y;
  const T* x;
  int64_t channels, hw;
  double inv;
  LW_HD void operator()(int64_t i) const {
    const T* xb = x + (i / channels) * hw * channels + i % channels;
    double s = 0.0;
    for (int64_t j = 0; j < hw; j++) s += static_cast<double>(to_f32(xb[j * channels]));
    y[i] = from_f32<T>(static_cast<float>(s * inv));
  }
};

template <typename T>
struct GlobalMeanBackward {
  T* dx;
  const T* dy;
  int64_t channels, hw;
  float inv;
  bool channels_last;
  LW_HD void operator()(int64_t i) const {
    const int64_t src = channels_last ? (i / (hw * channels)) * channels + i % channels : i / hw;
    dx[i] = from_f32<T>(to_f32(dy[src]) * inv);
  }
};

}  // namespace

Status maxpool2d_forward(Context& ctx, void* y, int32_t* indices, const void* x, DType dtype, int64_t batch,
                         int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                         int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                         int64_t pad_w, bool channels_last) {
  const char* op = "maxpool2d_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  Geometry g;
  LW_STATUS_TRY(window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                       pad_w, channels_last, &g));
  if (in_h * in_w > std::numeric_limits<int32_t>::max())
    return Status::Invalid(op, "in_h * in_w does not fit the int32 indices (" +
                                   describe({{"in_h", in_h}, {"in_w", in_w}}) + ")");
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, batch * channels * out_h * out_w,
                      MaxForward<T>{static_cast<T*>(y), indices, static_cast<const T*>(x), g});
  });
}

Status maxpool2d_backward(Context& ctx, void* dx, const void* dy, const int32_t* indices, DType dtype,
                          int64_t batch, int64_t channels, int64_t in_h, int64_t in_w, int64_t out_h,
                          int64_t out_w, bool channels_last) {
  const char* op = "maxpool2d_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"in_h", in_h}, {"in_w", in_w},
                                 {"out_h", out_h}, {"out_w", out_w}}));
  const int64_t total_in = batch * channels * in_h * in_w;
  const int64_t total_out = batch * channels * out_h * out_w;
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    if (total_in == 0) return Status::Ok();
    constexpr bool kFloat = std::is_same_v<T, float>;
    float* acc = nullptr;
    if constexpr (kFloat) {
      acc = static_cast<float*>(dx);
    } else {
      void* p = nullptr;
      LW_STATUS_TRY(scratch_alloc(ctx, op, &p, total_in * static_cast<int64_t>(sizeof(float))));
      acc = static_cast<float*>(p);
    }
    Status st = cuda_status(ctx, op, cudaMemsetAsync(acc, 0, static_cast<size_t>(total_in) * sizeof(float), ctx.stream),
                            "cudaMemsetAsync");
    if (st.ok())
      st = launch_for(ctx, op, total_out,
                      MaxScatter<T>{acc, static_cast<const T*>(dy), indices, channels, in_h * in_w, out_h * out_w,
                                    channels_last, narrow_indices(batch, channels, in_h * in_w, out_h * out_w)});
    if constexpr (!kFloat) {
      if (st.ok()) st = launch_for(ctx, op, total_in, RoundFloat<T>{static_cast<T*>(dx), acc});
      scratch_free(ctx, acc);
    }
    return st;
  });
}

Status avgpool2d_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t channels,
                         int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel_h,
                         int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                         bool count_include_pad, bool channels_last) {
  const char* op = "avgpool2d_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  Geometry g;
  LW_STATUS_TRY(window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                       pad_w, channels_last, &g));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, batch * channels * out_h * out_w,
                      AvgForward<T>{static_cast<T*>(y), static_cast<const T*>(x), g, count_include_pad});
  });
}

Status avgpool2d_backward(Context& ctx, void* dx, const void* dy, DType dtype, int64_t batch, int64_t channels,
                          int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel_h,
                          int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                          bool count_include_pad, bool channels_last) {
  const char* op = "avgpool2d_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  Geometry g;
  LW_STATUS_TRY(window(op, batch, channels, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                       pad_w, channels_last, &g));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, batch * channels * in_h * in_w,
                      AvgGather<T>{static_cast<T*>(dx), static_cast<const T*>(dy), g, count_include_pad});
  });
}

Status global_avgpool_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t batch, int64_t channels,
                              int64_t hw, bool channels_last) {
  const char* op = "global_avgpool_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"hw", hw}}));
  if (hw == 0 && batch * channels > 0)
    return Status::Invalid(op, "the mean over zero positions is undefined (" +
                                   describe({{"batch", batch}, {"channels", channels}, {"hw", hw}}) + ")");
  const int64_t planes = batch * channels;
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    if (planes == 0) return Status::Ok();
    const double inv = 1.0 / static_cast<double>(hw);
    T* yt = static_cast<T*>(y);
    const T* xt = static_cast<const T*>(x);
    if (channels_last) return launch_for(ctx, op, planes, GlobalMeanNhwc<T>{yt, xt, channels, hw, inv});
    global_mean_nchw<T><<<grid_for(ctx, planes * kWarp), kThreads, 0, ctx.stream>>>(GlobalMeanNchw<T>{yt, xt, hw, inv},
                                                                                      planes);
    return check_launch(ctx, op);
  });
}

Status global_avgpool_backward(Context& ctx, void* dx, const void* dy, DType dtype, int64_t batch,
                               int64_t channels, int64_t hw, bool channels_last) {
  const char* op = "global_avgpool_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"batch", batch}, {"channels", channels}, {"hw", hw}}));
  const float inv = hw > 0 ? 1.0f / static_cast<float>(hw) : 0.0f;
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, batch * channels * hw,
                      GlobalMeanBackward<T>{static_cast<T*>(dx), static_cast<const T*>(dy), channels, hw, inv,
                                            channels_last});
  });
}

}  // namespace layerwise::cuda
