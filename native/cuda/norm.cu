// CUDA LayerNorm: over the last dimension (torch.nn.LayerNorm) and over the channels of NCHW
// (timm LayerNorm2d), forward and backward; BatchNorm lives in norm_batchnorm.cu. The scalar math is
// native/shared/layernorm_math.h, the same the CPU backend (native/cpu/norm.cc, norm_channels.cc)
// runs, so the CPU tests cover it. Own kernels, no cuDNN (its layer norm is a graph-API fusion,
// not a plain call); the structure is that of PyTorch's aten/src/ATen/native/cuda/layer_norm_kernel.cu
// (per-row statistics, dx per row, dgamma / dbeta reduced over rows in a pass of their own), with
// the statistics summed in double as the contract (kernels/norm.h) and the CPU backend do (fp64
// runs at half the fp32 rate on sm_80 / sm_90; these kernels are bound by memory traffic).
//   Last dimension: one warp per row (grid-stride over rows), two passes for mean and centered
//   squares, a third writes y; the backward's dx is the same shape of kernel.
//   Channels of NCHW: one thread per position (n * hw), its c values hw apart, so consecutive
//   threads read consecutive addresses.
//   dgamma / dbeta (overwritten, as the CPU): per-group partial sums in double into a scratch
//   buffer, then one warp per parameter adds its groups in a fixed order, so every run gives the
//   same bits (no atomics). The partials run before dx is written, so dx may alias dy.
// The per-thread and per-lane work are __host__ __device__ functors (the warp kernels split at
// their shuffles), so a host run, emulating a warp's 32 lanes and xor butterfly, can check them
// against the CPU backend where no GPU is at hand.
#include "cuda/context.h"
#include "shared/layernorm_math.h"

namespace layerwise::cuda {

namespace {

constexpr int kWarp = 32;
constexpr int64_t kTile = 256;  // positions per partial sum of layernorm_channels_backward

__device__ __forceinline__ double warp_sum(double v) {
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Grid-stride over warps: every lane of a warp runs the same iterations (shuffles need all 32).
__device__ __forceinline__ int64_t warp_id() {
  return (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarp;
}
__device__ __forceinline__ int64_t warp_count() { return gridDim.x * static_cast<int64_t>(blockDim.x) / kWarp; }

int blocks_for_warps(const Context& ctx, int64_t warps) { return grid_for(ctx, warps * kWarp); }

template <typename Op>
__global__ void warp_pair_kernel(Op op, int64_t items);

// warp_pair_kernel over items (one warp each).
template <typename Op>
Status launch_warps(Context& ctx, const char* op_name, int64_t items, Op op) {
  if (items <= 0) return Status::Ok();
  warp_pair_kernel<Op><<<blocks_for_warps(ctx, items), kThreads, 0, ctx.stream>>>(op, items);
  return check_launch(ctx, op_name);
}

// ---- warp kernels, split at their warp reductions: the per-lane parts are LW_HD functors, so a
// host run can emulate the warp (32 lanes, the same xor butterfly) where no GPU is at hand ----

// One row r of layernorm_forward: lane's part of sum(x), of sum((x - mean)^2), then y (all lanes)
// and the statistics (lane 0).
template <typename T>
struct ForwardRow {
  T* y;
  float* save_mean;
  float* save_rstd;
  const T* x;
  const float* gamma;
  const float* beta;
  int64_t cols;
  float eps;
  LW_HD double sum(int64_t r, int lane) const {
    const T* in = x + r * cols;
    double s = 0.0;
    for (int64_t j = lane; j < cols; j += kWarp) s += static_cast<double>(to_f32(in[j]));
    return s;
  }
  LW_HD double squares(int64_t r, int lane, double mean) const {
    const T* in = x + r * cols;
    double sq = 0.0;
    for (int64_t j = lane; j < cols; j += kWarp) {
      const double d = static_cast<double>(to_f32(in[j])) - mean;
      sq += d * d;
    }
    return sq;
  }
  LW_HD void write(int64_t r, int lane, double mean, double sq) const {
    const shared::LayerNormCoeffs k = shared::layernorm_coeffs(mean, sq, cols, eps);
    if (lane == 0) {
      save_mean[r] = k.mean;
      save_rstd[r] = k.rstd;
    }
    const T* in = x + r * cols;
    T* out = y + r * cols;
    for (int64_t j = lane; j < cols; j += kWarp)
      out[j] = from_f32<T>(shared::layernorm_apply(to_f32(in[j]), k.a, k.b, gamma[j], beta[j]));
  }
};

template <typename T>
__global__ void layernorm_forward_kernel(ForwardRow<T> row, int64_t rows) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t r = warp_id(); r < rows; r += warp_count()) {
    const double mean = warp_sum(row.sum(r, lane)) / static_cast<double>(row.cols);
    row.write(r, lane, mean, warp_sum(row.squares(r, lane, mean)));
  }
}

// Item w of a warp kernel with two sums: op.sums(w, lane, a, b) gives the lane's parts,
// op.finish(w, lane, a, b) gets the warp's totals (on every lane).
template <typename Op>
__global__ void warp_pair_kernel(Op op, int64_t items) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t w = warp_id(); w < items; w += warp_count()) {
    double a, b;
    op.sums(w, lane, a, b);
    a = warp_sum(a);
    b = warp_sum(b);
    op.finish(w, lane, a, b);
  }
}

// Row r of layernorm_backward's dx: sums of g = dy * gamma and of g * xhat, then dx (may be dy).
template <typename T>
struct DxRow {
  T* dx;
  const T* dy;
  const T* x;
  const float* gamma;
  const float* save_mean;
  const float* save_rstd;
  int64_t cols;
  LW_HD void sums(int64_t r, int lane, double& s1, double& s2) const {
    const T* g = dy + r * cols;
    const T* in = x + r * cols;
    const float mean = save_mean[r], rstd = save_rstd[r];
    s1 = 0.0;
    s2 = 0.0;
    for (int64_t j = lane; j < cols; j += kWarp) {
      const double gj = static_cast<double>(to_f32(g[j])) * static_cast<double>(gamma[j]);
      s1 += gj;
      s2 += gj * static_cast<double>(shared::layernorm_xhat(to_f32(in[j]), mean, rstd));
    }
  }
  LW_HD void finish(int64_t r, int lane, double s1, double s2) const {
    const T* g = dy + r * cols;
    const T* in = x + r * cols;
    T* out = dx + r * cols;
    const float mean = save_mean[r], rstd = save_rstd[r];
    const float m1 = static_cast<float>(s1 / static_cast<double>(cols));
    const float m2 = static_cast<float>(s2 / static_cast<double>(cols));
    for (int64_t j = lane; j < cols; j += kWarp) {
      const float xhat = shared::layernorm_xhat(to_f32(in[j]), mean, rstd);
      out[j] = from_f32<T>(shared::layernorm_dx(to_f32(g[j]), gamma[j], xhat, rstd, m1, m2));
    }
  }
};

// Partial sums of channel ch over tile u = (i, positions [p0, p0 + kTile)) of
// layernorm_channels_backward: item w = u * c + ch, lanes over the tile's contiguous positions.
template <typename T>
struct ChannelPartials {
  double* pg;
  double* pb;
  const T* dy;
  const T* x;
  const float* save_mean;
  const float* save_rstd;
  int64_t c, hw, tiles;
  LW_HD void sums(int64_t w, int lane, double& ag, double& ab) const {
    const int64_t ch = w % c, u = w / c;
    const int64_t i = u / tiles, p0 = (u % tiles) * kTile;
    const int64_t p1 = p0 + kTile < hw ? p0 + kTile : hw;
    const T* gr = dy + (i * c + ch) * hw;
    const T* xr = x + (i * c + ch) * hw;
    const float* mean = save_mean + i * hw;
    const float* rstd = save_rstd + i * hw;
    ag = 0.0;
    ab = 0.0;
    for (int64_t p = p0 + lane; p < p1; p += kWarp) {
      const double d = static_cast<double>(to_f32(gr[p]));
      ag += d * static_cast<double>(shared::layernorm_xhat(to_f32(xr[p]), mean[p], rstd[p]));
      ab += d;
    }
  }
  LW_HD void finish(int64_t w, int lane, double ag, double ab) const {
    if (lane != 0) return;
    pg[w] = ag;
    pb[w] = ab;
  }
};

// dgamma[j] = sum_g pg[g * cols + j] (dbeta from pb): item j, lanes over the groups.
struct ParamFinish {
  float* dgamma;
  float* dbeta;
  const double* pg;
  const double* pb;
  int64_t cols, groups;
  LW_HD void sums(int64_t j, int lane, double& sg, double& sb) const {
    sg = 0.0;
    sb = 0.0;
    for (int64_t g = lane; g < groups; g += kWarp) {
      sg += pg[g * cols + j];
      sb += pb[g * cols + j];
    }
  }
  LW_HD void finish(int64_t j, int lane, double sg, double sb) const {
    if (lane != 0) return;
    dgamma[j] = static_cast<float>(sg);
    dbeta[j] = static_cast<float>(sb);
  }
};

// ---- one thread per item (launch_for) ----

// Partial (sum dy * xhat, sum dy) of column j over rows [g * group, (g + 1) * group): item
// i = g * cols + j, consecutive items consecutive columns.
template <typename T>
struct RowGroupPartials {
  double* pg;
  double* pb;
  const T* dy;
  const T* x;
  const float* save_mean;
  const float* save_rstd;
  int64_t rows, cols, group;
  LW_HD void operator()(int64_t i) const {
    const int64_t j = i % cols, g = i / cols;
    const int64_t r1 = (g + 1) * group < rows ? (g + 1) * group : rows;
    double ag = 0.0, ab = 0.0;
    for (int64_t r = g * group; r < r1; r++) {
      const double d = static_cast<double>(to_f32(dy[r * cols + j]));
      ag += d * static_cast<double>(shared::layernorm_xhat(to_f32(x[r * cols + j]), save_mean[r], save_rstd[r]));
      ab += d;
    }
    pg[i] = ag;
    pb[i] = ab;
  }
};

// Channels of NCHW: position q = i * hw + p, its c values at (i * c + ch) * hw + p.
template <typename T>
struct ChannelsForward {
  T* y;
  float* save_mean;
  float* save_rstd;
  const T* x;
  const float* gamma;
  const float* beta;
  int64_t c, hw;
  float eps;
  LW_HD void operator()(int64_t q) const {
    const int64_t base = (q / hw) * c * hw + q % hw;
    const T* in = x + base;  // value ch at in[ch * hw]
    T* out = y + base;
    double s = 0.0;
    for (int64_t ch = 0; ch < c; ch++) s += static_cast<double>(to_f32(in[ch * hw]));
    const double mean = s / static_cast<double>(c);
    double sq = 0.0;
    for (int64_t ch = 0; ch < c; ch++) {
      const double d = static_cast<double>(to_f32(in[ch * hw])) - mean;
      sq += d * d;
    }
    const shared::LayerNormCoeffs k = shared::layernorm_coeffs(mean, sq, c, eps);
    save_mean[q] = k.mean;
    save_rstd[q] = k.rstd;
    for (int64_t ch = 0; ch < c; ch++)
      out[ch * hw] = from_f32<T>(shared::layernorm_apply(to_f32(in[ch * hw]), k.a, k.b, gamma[ch], beta[ch]));
  }
};

template <typename T>
struct ChannelsDx {
  T* dx;
  const T* dy;
  const T* x;
  const float* gamma;
  const float* save_mean;
  const float* save_rstd;
  int64_t c, hw;
  LW_HD void operator()(int64_t q) const {
    const int64_t base = (q / hw) * c * hw + q % hw;
    const T* g = dy + base;
    const T* in = x + base;
    T* out = dx + base;  // may be g
    const float mean = save_mean[q], rstd = save_rstd[q];
    double s1 = 0.0, s2 = 0.0;
    for (int64_t ch = 0; ch < c; ch++) {
      const double d = static_cast<double>(to_f32(g[ch * hw]));
      const double xh = static_cast<double>(shared::layernorm_xhat(to_f32(in[ch * hw]), mean, rstd));
      const double gm = static_cast<double>(gamma[ch]);
      s1 += d * gm;
      s2 += d * gm * xh;
    }
    const float m1 = static_cast<float>(s1 / static_cast<double>(c));
    const float m2 = static_cast<float>(s2 / static_cast<double>(c));
    for (int64_t ch = 0; ch < c; ch++) {
      const float xhat = shared::layernorm_xhat(to_f32(in[ch * hw]), mean, rstd);
      out[ch * hw] = from_f32<T>(shared::layernorm_dx(to_f32(g[ch * hw]), gamma[ch], xhat, rstd, m1, m2));
    }
  }
};

// dgamma = dbeta = 0 (no positions to sum over).
Status zero_params(Context& ctx, const char* op, float* dgamma, float* dbeta, int64_t count) {
  if (count <= 0) return Status::Ok();
  const size_t bytes = static_cast<size_t>(count) * sizeof(float);
  LW_CUDA_TRY(ctx, op, cudaMemsetAsync(dgamma, 0, bytes, ctx.stream));
  LW_CUDA_TRY(ctx, op, cudaMemsetAsync(dbeta, 0, bytes, ctx.stream));
  return Status::Ok();
}

// Scratch for two (units, params) double arrays of partial sums, freed (stream-ordered) on scope exit.
struct Partials {
  Context& ctx;
  void* ptr = nullptr;
  explicit Partials(Context& c) : ctx(c) {}
  ~Partials() {
    if (ptr != nullptr) scratch_free(ctx, ptr);
  }
  Status alloc(const char* op, int64_t count) {
    return scratch_alloc(ctx, op, &ptr, 2 * count * static_cast<int64_t>(sizeof(double)));
  }
  double* g() const { return static_cast<double*>(ptr); }
  double* b(int64_t count) const { return static_cast<double*>(ptr) + count; }
};

Status check_ln2d(const char* op, int64_t n, int64_t c, int64_t hw) {
  LW_STATUS_TRY(check_sizes(op, {{"n", n}, {"c", c}, {"hw", hw}}));
  if (n * hw > 0 && c == 0) return Status::Invalid(op, "c must be positive (" + describe({{"n", n}, {"c", c}, {"hw", hw}}) + ")");
  return Status::Ok();
}

}  // namespace

Status layernorm_forward(Context& ctx, void* y, float* save_mean, float* save_rstd, const void* x, const float* gamma,
                         const float* beta, DType dtype, int64_t rows, int64_t cols, float eps) {
  const char* op = "layernorm_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
  if (rows > 0 && cols == 0) return Status::Invalid(op, "cols must be positive (rows=" + std::to_string(rows) + ", cols=0)");
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    if (rows == 0) return Status::Ok();
    const ForwardRow<T> row{static_cast<T*>(y), save_mean, save_rstd, static_cast<const T*>(x), gamma, beta, cols, eps};
    layernorm_forward_kernel<T><<<blocks_for_warps(ctx, rows), kThreads, 0, ctx.stream>>>(row, rows);
    return check_launch(ctx, op);
  });
}

Status layernorm_backward(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy, const void* x,
                          const float* gamma, const float* save_mean, const float* save_rstd, DType dtype,
                          int64_t rows, int64_t cols) {
  const char* op = "layernorm_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    if (cols == 0) return Status::Ok();
    if (rows == 0) return zero_params(ctx, op, dgamma, dbeta, cols);
    // Groups of rows: at least 64 rows each, at most 1024 groups (a short finishing pass).
    const int64_t group = (rows + 1023) / 1024 > 64 ? (rows + 1023) / 1024 : 64;
    const int64_t groups = (rows + group - 1) / group;
    Partials partials(ctx);
    LW_STATUS_TRY(partials.alloc(op, groups * cols));
    const T* dyt = static_cast<const T*>(dy);
    const T* xt = static_cast<const T*>(x);
    LW_STATUS_TRY(launch_for(ctx, op, groups * cols,
                             RowGroupPartials<T>{partials.g(), partials.b(groups * cols), dyt, xt, save_mean,
                                                 save_rstd, rows, cols, group}));
    LW_STATUS_TRY(launch_warps(ctx, op, cols,
                               ParamFinish{dgamma, dbeta, partials.g(), partials.b(groups * cols), cols, groups}));
    return launch_warps(ctx, op, rows, DxRow<T>{static_cast<T*>(dx), dyt, xt, gamma, save_mean, save_rstd, cols});
  });
}

Status layernorm_channels_forward(Context& ctx, void* y, float* save_mean, float* save_rstd, const void* x,
                                  const float* gamma, const float* beta, DType dtype, int64_t n, int64_t c,
                                  int64_t hw, float eps) {
  const char* op = "layernorm_channels_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_ln2d(op, n, c, hw));
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    if (n * hw == 0) return Status::Ok();
    return launch_for(ctx, op, n * hw,
                      ChannelsForward<T>{static_cast<T*>(y), save_mean, save_rstd, static_cast<const T*>(x), gamma,
                                         beta, c, hw, eps});
  });
}

Status layernorm_channels_backward(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy,
                                   const void* x, const float* gamma, const float* save_mean,
                                   const float* save_rstd, DType dtype, int64_t n, int64_t c, int64_t hw) {
  const char* op = "layernorm_channels_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_ln2d(op, n, c, hw));
  return dispatch_float(dtype, op, [&](auto tag) -> Status {
    using T = decltype(tag);
    if (c == 0) return Status::Ok();
    if (n * hw == 0) return zero_params(ctx, op, dgamma, dbeta, c);
    const int64_t tiles = (hw + kTile - 1) / kTile;
    const int64_t units = n * tiles;
    Partials partials(ctx);
    LW_STATUS_TRY(partials.alloc(op, units * c));
    const T* dyt = static_cast<const T*>(dy);
    const T* xt = static_cast<const T*>(x);
    LW_STATUS_TRY(launch_warps(ctx, op, units * c,
                               ChannelPartials<T>{partials.g(), partials.b(units * c), dyt, xt, save_mean, save_rstd,
                                                  c, hw, tiles}));
    LW_STATUS_TRY(launch_warps(ctx, op, c, ParamFinish{dgamma, dbeta, partials.g(), partials.b(units * c), c, units}));
    return launch_for(ctx, op, n * hw, ChannelsDx<T>{static_cast<T*>(dx), dyt, xt, gamma, save_mean, save_rstd, c, hw});
  });
}

}  // namespace layerwise::cuda
