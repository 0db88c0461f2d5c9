// CPU normalization: BatchNorm2d (training with batch statistics, evaluation with running
// statistics; forward and backward) and LayerNorm over the last dimension.
// References: torch.nn.BatchNorm2d and torch.nn.LayerNorm (https://pytorch.org/docs/stable/nn.html);
// the backward formulas are PyTorch's batch_norm_backward / layer_norm_backward.
// Storage is float32, bfloat16 or float16 (layerwise/dtype.h); statistics, gamma and beta are
// float32 and statistics accumulate in double (two passes: mean, then centered squares), as
// PyTorch's mixed-precision batch_norm / layer_norm (float accumulation of low-precision input).
//   NCHW BatchNorm runs one channel per thread over its n runs of hw values.
//   NHWC BatchNorm (channels_last) sums fixed blocks of kRowBlock rows (n*hw positions) in
//   parallel, each block vectorized across the channels of a row, then adds the block sums in
//   order; the pointwise passes run over rows, vectorized across channels.
// The per-channel coefficients and the per-element formulas of BatchNorm live in
// native/shared/norm_math.h, which the CUDA backend (native/cuda/norm_batchnorm.cu) shares.
// LayerNorm runs one row per thread; its dgamma/dbeta sum fixed row groups and then add the
// groups in order. No result depends on the thread count. LayerNorm's scalar math is
// shared/layernorm_math.h, which the CUDA backend (native/cuda/norm.cu) runs too.
#include <cmath>
#include <new>
#include <vector>

#include "cpu/context.h"
#include "shared/layernorm_math.h"
#include "shared/norm_math.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;
constexpr int64_t kRowBlock = 128;  // NHWC rows per partial sum

Status check_bn(const char* op, int64_t n, int64_t c, int64_t hw, int64_t min_count) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"n", n}, {"c", c}, {"hw", hw}}));
  if (c > 0 && n * hw < min_count)
    return Status::Invalid(op, "expected more than " + std::to_string(min_count - 1) +
                                   " value(s) per channel in training mode (" +
                                   describe({{"n", n}, {"c", c}, {"hw", hw}}) + ")");
  return Status::Ok();
}

Status no_memory(const char* op, int64_t n, int64_t c, int64_t hw) {
  return Status::Error(StatusCode::kOutOfMemory, op, "no memory for partial sums (" + describe({{"n", n}, {"c", c}, {"hw", hw}}) + ")");
}

// ---- NCHW: one channel ch, its n runs of hw values at (i * c + ch) * hw ----

// (sum of a, sum of a * (b - center)) over channel ch; b may be null (then only the first).
template <typename T>
void nchw_sums(double& s1, double& s2, const T* a, const T* b, double center, int64_t n, int64_t c, int64_t hw,
               int64_t ch) {
  double u = 0.0, v = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const T* ra = a + (i * c + ch) * hw;  // (hw)
    if (b == nullptr) {
#pragma omp simd reduction(+ : u)
      for (int64_t j = 0; j < hw; j++) u += static_cast<double>(to_f32(ra[j]));
    } else {
      const T* rb = b + (i * c + ch) * hw;  // (hw)
#pragma omp simd reduction(+ : u, v)
      for (int64_t j = 0; j < hw; j++) {
        const double av = static_cast<double>(to_f32(ra[j]));
        u += av;
        v += av * (static_cast<double>(to_f32(rb[j])) - center);
      }
    }
  }
  s1 = u;
  s2 = v;
}

// Sum of (x - mean)^2 over channel ch.
template <typename T>
double nchw_centered_squares(const T* x, double mean, int64_t n, int64_t c, int64_t hw, int64_t ch) {
  double sq = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const T* run = x + (i * c + ch) * hw;  // (hw)
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < hw; j++) {
      const double d = static_cast<double>(to_f32(run[j])) - mean;
      sq += d * d;
    }
  }
  return sq;
}

// ---- NHWC: rows = n * hw rows of c channels ----

// out1[ch] = sum_r a[r, ch], out2[ch] = sum_r a[r, ch] * (b[r, ch] - center[ch]) (when b), or with
// squares: out1[ch] = sum_r (a[r, ch] - center[ch])^2. Fixed row blocks, then the blocks in order.
enum class NhwcSum { kPlain, kCentered, kSquares };

template <NhwcSum kind, typename T>
Status nhwc_sums(const char* op, double* out1, double* out2, const T* a, const T* b, const double* center,
                 int64_t rows, int64_t c) {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  const int64_t per = kind == NhwcSum::kCentered ? 2 : 1;
  std::vector<double> partial;
  try {
    partial.assign(static_cast<size_t>(blocks * c * per), 0.0);
  } catch (const std::bad_alloc&) {
    return no_memory(op, rows, c, 1);
  }
  double* p = partial.data();  // (blocks, per, c)
#pragma omp parallel for schedule(static) if (rows * c > kParallelMin)
  for (int64_t blk = 0; blk < blocks; blk++) {
    double* acc1 = p + blk * per * c;
    double* acc2 = acc1 + (per - 1) * c;
    const int64_t r1 = (blk + 1) * kRowBlock < rows ? (blk + 1) * kRowBlock : rows;
    for (int64_t r = blk * kRowBlock; r < r1; r++) {
      const T* ra = a + r * c;  // (c)
      if constexpr (kind == NhwcSum::kPlain) {
#pragma omp simd
        for (int64_t j = 0; j < c; j++) acc1[j] += static_cast<double>(to_f32(ra[j]));
      } else if constexpr (kind == NhwcSum::kSquares) {
#pragma omp simd
        for (int64_t j = 0; j < c; j++) {
          const double d = static_cast<double>(to_f32(ra[j])) - center[j];
          acc1[j] += d * d;
        }
      } else {
        const T* rb = b + r * c;  // (c)
#pragma omp simd
        for (int64_t j = 0; j < c; j++) {
          const double av = static_cast<double>(to_f32(ra[j]));
          acc1[j] += av;
          acc2[j] += av * (static_cast<double>(to_f32(rb[j])) - center[j]);
        }
      }
    }
  }
  for (int64_t j = 0; j < c; j++) {
    double s1 = 0.0, s2 = 0.0;
    for (int64_t blk = 0; blk < blocks; blk++) {
      s1 += p[blk * per * c + j];
      if (per == 2) s2 += p[blk * per * c + c + j];
    }
    out1[j] = s1;
    if (out2 != nullptr) out2[j] = s2;
  }
  return Status::Ok();
}

// y = x * a[ch] + b[ch] over the whole tensor, in either layout.
template <typename T>
void affine(T* y, const T* x, const float* a, const float* b, int64_t n, int64_t c, int64_t hw, bool channels_last) {
  if (channels_last) {
    const int64_t rows = n * hw;
#pragma omp parallel for schedule(static) if (rows * c > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* in = x + r * c;
      T* out = y + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) out[j] = from_f32<T>(shared::bn_affine(to_f32(in[j]), a[j], b[j]));
    }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > kParallelMin)
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++) {
      const T* in = x + (i * c + ch) * hw;
      T* out = y + (i * c + ch) * hw;
      const float av = a[ch], bv = b[ch];
#pragma omp simd
      for (int64_t j = 0; j < hw; j++) out[j] = from_f32<T>(shared::bn_affine(to_f32(in[j]), av, bv));
    }
}

// dx = (dy - mean_dy[ch] - (x - mean[ch]) * k[ch]) * w[ch] (k = 0, mean_dy = 0 in eval mode).
template <typename T>
void bn_dx(T* dx, const T* dy, const T* x, const float* mean_dy, const float* mean, const float* k, const float* w,
           int64_t n, int64_t c, int64_t hw, bool channels_last) {
  if (channels_last) {
    const int64_t rows = n * hw;
#pragma omp parallel for schedule(static) if (rows * c > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* g = dy + r * c;
      const T* in = x + r * c;
      T* out = dx + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++)
        out[j] = from_f32<T>(shared::bn_dx(to_f32(g[j]), to_f32(in[j]), mean_dy[j], mean[j], k[j], w[j]));
    }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > kParallelMin)
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++) {
      const T* g = dy + (i * c + ch) * hw;
      const T* in = x + (i * c + ch) * hw;
      T* out = dx + (i * c + ch) * hw;
      const float md = mean_dy[ch], m = mean[ch], kk = k[ch], ww = w[ch];
#pragma omp simd
      for (int64_t j = 0; j < hw; j++) out[j] = from_f32<T>(shared::bn_dx(to_f32(g[j]), to_f32(in[j]), md, m, kk, ww));
    }
}

// Per-channel (sum dy, sum dy * (x - center)) in either layout.
template <typename T>
Status grad_sums(const char* op, double* sum_dy, double* sum_dy_xmu, const T* dy, const T* x, const double* center,
                 int64_t n, int64_t c, int64_t hw, bool channels_last) {
  if (channels_last) return nhwc_sums<NhwcSum::kCentered>(op, sum_dy, sum_dy_xmu, dy, x, center, n * hw, c);
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
  for (int64_t ch = 0; ch < c; ch++) nchw_sums(sum_dy[ch], sum_dy_xmu[ch], dy, x, center[ch], n, c, hw, ch);
  return Status::Ok();
}

// Scratch for per-channel values: doubles d0..d1 and floats f0..f3, each (c).
struct ChannelScratch {
  std::vector<double> d;
  std::vector<float> f;
  bool init(int64_t c) {
    try {
      d.assign(static_cast<size_t>(3 * c), 0.0);
      f.assign(static_cast<size_t>(4 * c), 0.0f);
    } catch (const std::bad_alloc&) {
      return false;
    }
    return true;
  }
  double* dv(int i, int64_t c) { return d.data() + i * c; }
  float* fv(int i, int64_t c) { return f.data() + i * c; }
};

}  // namespace

#define LW_TYPED(ptr) static_cast<T*>(ptr)
#define LW_CTYPED(ptr) static_cast<const T*>(ptr)

Status batchnorm2d_forward_train(Context& ctx, void* y, float* save_mean, float* save_invstd, float* running_mean,
                                 float* running_var, const void* x, const float* gamma, const float* beta,
                                 DType dtype, int64_t n, int64_t c, int64_t hw, bool channels_last, float momentum,
                                 float eps) {
  const char* op = "batchnorm2d_forward_train";
  LW_RETURN_IF_ERROR(check_bn(op, n, c, hw, 2));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* xt = LW_CTYPED(x);
    ChannelScratch s;
    if (!s.init(c)) return no_memory(op, n, c, hw);
    double* mean = s.dv(0, c);
    double* sq = s.dv(1, c);
    const double count = static_cast<double>(n * hw);
    if (channels_last) {
      LW_RETURN_IF_ERROR(nhwc_sums<NhwcSum::kPlain>(op, mean, nullptr, xt, xt, nullptr, n * hw, c));
      for (int64_t ch = 0; ch < c; ch++) mean[ch] /= count;
      LW_RETURN_IF_ERROR(nhwc_sums<NhwcSum::kSquares>(op, sq, nullptr, xt, xt, mean, n * hw, c));
    } else {
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
      for (int64_t ch = 0; ch < c; ch++) {
        double s1, unused;
        nchw_sums<T>(s1, unused, xt, nullptr, 0.0, n, c, hw, ch);
        mean[ch] = s1 / count;
        sq[ch] = nchw_centered_squares(xt, mean[ch], n, c, hw, ch);
      }
    }
    float* a = s.fv(0, c);
    float* b = s.fv(1, c);
    for (int64_t ch = 0; ch < c; ch++)
      shared::bn_train_channel(mean[ch], sq[ch], count, momentum, eps, gamma[ch], beta[ch], &save_mean[ch],
                               &save_invstd[ch], &running_mean[ch], &running_var[ch], &a[ch], &b[ch]);
    affine(LW_TYPED(y), xt, a, b, n, c, hw, channels_last);
    return Status::Ok();
  });
}

Status batchnorm2d_forward_eval(Context& ctx, void* y, const void* x, const float* gamma, const float* beta,
                                const float* running_mean, const float* running_var, DType dtype, int64_t n,
                                int64_t c, int64_t hw, bool channels_last, float eps) {
  const char* op = "batchnorm2d_forward_eval";
  LW_RETURN_IF_ERROR(check_bn(op, n, c, hw, 0));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    ChannelScratch s;
    if (!s.init(c)) return no_memory(op, n, c, hw);
    float* a = s.fv(0, c);
    float* b = s.fv(1, c);
    for (int64_t ch = 0; ch < c; ch++)
      shared::bn_eval_channel(gamma[ch], beta[ch], running_mean[ch], running_var[ch], eps, &a[ch], &b[ch]);
    affine(LW_TYPED(y), LW_CTYPED(x), a, b, n, c, hw, channels_last);
    return Status::Ok();
  });
}

// With xhat = (x - mean) * invstd and M = n * hw:
//   dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma * invstd * (dy - dbeta / M - (x - mean) * invstd^2 * sum(dy * (x - mean)) / M).
// The sums finish before dx is written, so dx may alias dy.
Status batchnorm2d_backward_train(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy, const void* x,
                                  const float* gamma, const float* save_mean, const float* save_invstd, DType dtype,
                                  int64_t n, int64_t c, int64_t hw, bool channels_last) {
  const char* op = "batchnorm2d_backward_train";
  LW_RETURN_IF_ERROR(check_bn(op, n, c, hw, 1));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    ChannelScratch s;
    if (!s.init(c)) return no_memory(op, n, c, hw);
    double* center = s.dv(0, c);
    double* sum_dy = s.dv(1, c);
    double* sum_dy_xmu = s.dv(2, c);
    for (int64_t ch = 0; ch < c; ch++) center[ch] = save_mean[ch];
    LW_RETURN_IF_ERROR(grad_sums(op, sum_dy, sum_dy_xmu, LW_CTYPED(dy), LW_CTYPED(x), center, n, c, hw, channels_last));
    const double count = static_cast<double>(n * hw);
    float* mean_dy = s.fv(0, c);
    float* k = s.fv(1, c);
    float* w = s.fv(2, c);
    for (int64_t ch = 0; ch < c; ch++)
      shared::bn_backward_train_channel(sum_dy[ch], sum_dy_xmu[ch], count, save_invstd[ch], gamma[ch], &dgamma[ch],
                                        &dbeta[ch], &mean_dy[ch], &k[ch], &w[ch]);
    bn_dx(LW_TYPED(dx), LW_CTYPED(dy), LW_CTYPED(x), mean_dy, save_mean, k, w, n, c, hw, channels_last);
    return Status::Ok();
  });
}

// Running statistics are constants here: dx = dy * gamma / sqrt(running_var + eps).
Status batchnorm2d_backward_eval(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy, const void* x,
                                 const float* gamma, const float* running_mean, const float* running_var,
                                 DType dtype, int64_t n, int64_t c, int64_t hw, bool channels_last, float eps) {
  const char* op = "batchnorm2d_backward_eval";
  LW_RETURN_IF_ERROR(check_bn(op, n, c, hw, 0));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    ChannelScratch s;
    if (!s.init(c)) return no_memory(op, n, c, hw);
    double* center = s.dv(0, c);
    double* sum_dy = s.dv(1, c);
    double* sum_dy_xmu = s.dv(2, c);
    for (int64_t ch = 0; ch < c; ch++) center[ch] = running_mean[ch];
    LW_RETURN_IF_ERROR(grad_sums(op, sum_dy, sum_dy_xmu, LW_CTYPED(dy), LW_CTYPED(x), center, n, c, hw, channels_last));
    float* zero = s.fv(0, c);  // mean_dy and k: zero
    float* w = s.fv(1, c);
    for (int64_t ch = 0; ch < c; ch++)
      shared::bn_backward_eval_channel(sum_dy[ch], sum_dy_xmu[ch], gamma[ch], running_var[ch], eps, &dgamma[ch],
                                       &dbeta[ch], &w[ch]);
    bn_dx(LW_TYPED(dx), LW_CTYPED(dy), LW_CTYPED(x), zero, zero, zero, w, n, c, hw, channels_last);
    return Status::Ok();
  });
}

Status layernorm_forward(Context& ctx, void* y, float* save_mean, float* save_rstd, const void* x, const float* gamma,
                         const float* beta, DType dtype, int64_t rows, int64_t cols, float eps) {
  const char* op = "layernorm_forward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
  if (rows > 0 && cols == 0) return Status::Invalid(op, "cols must be positive (rows=" + std::to_string(rows) + ", cols=0)");
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* xt = LW_CTYPED(x);
    T* yt = LW_TYPED(y);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* in = xt + r * cols;  // (cols)
      T* out = yt + r * cols;       // (cols)
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < cols; j++) s += static_cast<double>(to_f32(in[j]));
      const double mean = s / static_cast<double>(cols);
      double sq = 0.0;
#pragma omp simd reduction(+ : sq)
      for (int64_t j = 0; j < cols; j++) {
        const double d = static_cast<double>(to_f32(in[j])) - mean;
        sq += d * d;
      }
      const shared::LayerNormCoeffs k = shared::layernorm_coeffs(mean, sq, cols, eps);
      save_mean[r] = k.mean;
      save_rstd[r] = k.rstd;
      const float a = k.a, b = k.b;
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) out[j] = from_f32<T>(shared::layernorm_apply(to_f32(in[j]), a, b, gamma[j], beta[j]));
    }
    return Status::Ok();
  });
}

// Per row, with g = dy * gamma and xhat = (x - mean) * rstd (shared/layernorm_math.h):
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat));  dgamma = sum_rows dy * xhat; dbeta = sum_rows dy.
Status layernorm_backward(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy, const void* x,
                          const float* gamma, const float* save_mean, const float* save_rstd, DType dtype,
                          int64_t rows, int64_t cols) {
  const char* op = "layernorm_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* dyt = LW_CTYPED(dy);
    const T* xt = LW_CTYPED(x);
    T* dxt = LW_TYPED(dx);
    // dgamma / dbeta: partial sums over groups of kGroup rows (in parallel), then the groups in order.
    constexpr int64_t kGroup = 256;
    const int64_t groups = (rows + kGroup - 1) / kGroup;
    std::vector<double> partial;
    try {
      partial.assign(static_cast<size_t>(groups * cols * 2), 0.0);
    } catch (const std::bad_alloc&) {
      return Status::Error(StatusCode::kOutOfMemory, op, "no memory for partial sums (" + describe({{"rows", rows}, {"cols", cols}}) + ")");
    }
    double* pg = partial.data();                  // (groups, cols) sums of dy * xhat
    double* pb = partial.data() + groups * cols;  // (groups, cols) sums of dy
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t grp = 0; grp < groups; grp++) {
      const int64_t r1 = (grp + 1) * kGroup < rows ? (grp + 1) * kGroup : rows;
      double* accg = pg + grp * cols;
      double* accb = pb + grp * cols;
      for (int64_t r = grp * kGroup; r < r1; r++) {
        const T* g = dyt + r * cols;  // (cols)
        const T* in = xt + r * cols;  // (cols)
        const float mean = save_mean[r], rstd = save_rstd[r];
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) {
          const double gj = static_cast<double>(to_f32(g[j]));
          accg[j] += gj * static_cast<double>(shared::layernorm_xhat(to_f32(in[j]), mean, rstd));
          accb[j] += gj;
        }
      }
    }
#pragma omp parallel for schedule(static) if (groups * cols > kParallelMin)
    for (int64_t j = 0; j < cols; j++) {
      double sg = 0.0, sb = 0.0;
      for (int64_t grp = 0; grp < groups; grp++) {
        sg += pg[grp * cols + j];
        sb += pb[grp * cols + j];
      }
      dgamma[j] = static_cast<float>(sg);
      dbeta[j] = static_cast<float>(sb);
    }
    // dx, one row per thread (after the sums above: dx may alias dy).
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* g = dyt + r * cols;  // (cols)
      const T* in = xt + r * cols;  // (cols)
      T* out = dxt + r * cols;      // (cols)
      const float mean = save_mean[r], rstd = save_rstd[r];
      double s1 = 0.0, s2 = 0.0;
#pragma omp simd reduction(+ : s1, s2)
      for (int64_t j = 0; j < cols; j++) {
        const double gj = static_cast<double>(to_f32(g[j])) * static_cast<double>(gamma[j]);
        s1 += gj;
        s2 += gj * static_cast<double>(shared::layernorm_xhat(to_f32(in[j]), mean, rstd));
      }
      const float a = static_cast<float>(s1 / static_cast<double>(cols));
      const float b = static_cast<float>(s2 / static_cast<double>(cols));
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) {
        const float xhat = shared::layernorm_xhat(to_f32(in[j]), mean, rstd);
        out[j] = from_f32<T>(shared::layernorm_dx(to_f32(g[j]), gamma[j], xhat, rstd, a, b));
      }
    }
    return Status::Ok();
  });
}

#undef LW_TYPED
#undef LW_CTYPED

}  // namespace layerwise::cpu
