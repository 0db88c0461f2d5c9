// LayerNorm over the channels of an NCHW tensor (timm LayerNorm2d: F.layer_norm on the permuted
// NHWC view, biased variance): x is (n, c, hw); each of the n * hw positions is normalized over
// its c values, which lie hw apart. Work is split into tiles of kTile positions of one sample,
// vectorized along the positions, statistics in double (two passes: mean, centered squares).
// dgamma / dbeta: per-tile partial sums, then the tiles added in order, so no result depends on
// the thread count. Storage float32, bfloat16 or float16; gamma, beta and statistics float32.
#include <cmath>
#include <new>
#include <vector>

#include "cpu/context.h"
#include "shared/layernorm_math.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kTile = 256;  // positions per tile
constexpr int64_t kParallelMin = 1 << 15;

Status check_ln2d(const char* op, int64_t n, int64_t c, int64_t hw) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"n", n}, {"c", c}, {"hw", hw}}));
  if (n * hw > 0 && c == 0) return Status::Invalid(op, "c must be positive (" + describe({{"n", n}, {"c", c}, {"hw", hw}}) + ")");
  return Status::Ok();
}

}  // namespace

Status layernorm_channels_forward(Context& ctx, void* y, float* save_mean, float* save_rstd, const void* x,
                                  const float* gamma, const float* beta, DType dtype, int64_t n, int64_t c,
                                  int64_t hw, float eps) {
  const char* op = "layernorm_channels_forward";
  LW_RETURN_IF_ERROR(check_ln2d(op, n, c, hw));
  if (n * hw == 0) return Status::Ok();
  const int64_t tiles = (hw + kTile - 1) / kTile;
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
    for (int64_t t = 0; t < n * tiles; t++) {
      const int64_t i = t / tiles, p0 = (t % tiles) * kTile;
      const int64_t len = hw - p0 < kTile ? hw - p0 : kTile;
      const T* xs = static_cast<const T*>(x) + i * c * hw + p0;  // (c, hw) from position p0
      T* ys = static_cast<T*>(y) + i * c * hw + p0;
      double mean[kTile], sq[kTile];
      for (int64_t p = 0; p < len; p++) mean[p] = sq[p] = 0.0;
      for (int64_t ch = 0; ch < c; ch++) {
        const T* row = xs + ch * hw;
#pragma omp simd
        for (int64_t p = 0; p < len; p++) mean[p] += static_cast<double>(to_f32(row[p]));
      }
      for (int64_t p = 0; p < len; p++) mean[p] /= static_cast<double>(c);
      for (int64_t ch = 0; ch < c; ch++) {
        const T* row = xs + ch * hw;
#pragma omp simd
        for (int64_t p = 0; p < len; p++) {
          const double d = static_cast<double>(to_f32(row[p])) - mean[p];
          sq[p] += d * d;
        }
      }
      float a[kTile], b[kTile];
      for (int64_t p = 0; p < len; p++) {
        const shared::LayerNormCoeffs k = shared::layernorm_coeffs(mean[p], sq[p], c, eps);
        save_mean[i * hw + p0 + p] = k.mean;
        save_rstd[i * hw + p0 + p] = k.rstd;
        a[p] = k.a;
        b[p] = k.b;
      }
      for (int64_t ch = 0; ch < c; ch++) {
        const T* row = xs + ch * hw;
        T* out = ys + ch * hw;
        const float g = gamma[ch], be = beta[ch];
#pragma omp simd
        for (int64_t p = 0; p < len; p++) out[p] = from_f32<T>(shared::layernorm_apply(to_f32(row[p]), a[p], b[p], g, be));
      }
    }
    return Status::Ok();
  });
}

// Per position, with g = dy * gamma and xhat = (x - mean) * rstd over the channels (the scalar
// math in shared/layernorm_math.h, as the CUDA backend's norm.cu):
//   dx = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat));  dgamma = sum dy * xhat; dbeta = sum dy.
Status layernorm_channels_backward(Context& ctx, void* dx, float* dgamma, float* dbeta, const void* dy,
                                   const void* x, const float* gamma, const float* save_mean,
                                   const float* save_rstd, DType dtype, int64_t n, int64_t c, int64_t hw) {
  const char* op = "layernorm_channels_backward";
  LW_RETURN_IF_ERROR(check_ln2d(op, n, c, hw));
  const int64_t tiles = (hw + kTile - 1) / kTile;
  const int64_t units = n * tiles;
  std::vector<double> partial;
  try {
    partial.assign(static_cast<size_t>(units * c * 2), 0.0);
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "no memory for partial sums (" + describe({{"n", n}, {"c", c}, {"hw", hw}}) + ")");
  }
  double* pg = partial.data();                // (units, c) sums of dy * xhat
  double* pb = partial.data() + units * c;    // (units, c) sums of dy
  Status st = dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
    for (int64_t t = 0; t < units; t++) {
      const int64_t i = t / tiles, p0 = (t % tiles) * kTile;
      const int64_t len = hw - p0 < kTile ? hw - p0 : kTile;
      const T* xs = static_cast<const T*>(x) + i * c * hw + p0;
      const T* gs = static_cast<const T*>(dy) + i * c * hw + p0;
      T* out = static_cast<T*>(dx) + i * c * hw + p0;
      const float* mean = save_mean + i * hw + p0;
      const float* rstd = save_rstd + i * hw + p0;
      double s1[kTile], s2[kTile];
      for (int64_t p = 0; p < len; p++) s1[p] = s2[p] = 0.0;
      for (int64_t ch = 0; ch < c; ch++) {
        const T* xr = xs + ch * hw;
        const T* gr = gs + ch * hw;
        const double gm = static_cast<double>(gamma[ch]);
        double ag = 0.0, ab = 0.0;
#pragma omp simd reduction(+ : ag, ab)
        for (int64_t p = 0; p < len; p++) {
          const double d = static_cast<double>(to_f32(gr[p]));
          const double xh = static_cast<double>(shared::layernorm_xhat(to_f32(xr[p]), mean[p], rstd[p]));
          ag += d * xh;
          ab += d;
          s1[p] += d * gm;
          s2[p] += d * gm * xh;
        }
        pg[t * c + ch] = ag;
        pb[t * c + ch] = ab;
      }
      float m1[kTile], m2[kTile];
      for (int64_t p = 0; p < len; p++) {
        m1[p] = static_cast<float>(s1[p] / static_cast<double>(c));
        m2[p] = static_cast<float>(s2[p] / static_cast<double>(c));
      }
      for (int64_t ch = 0; ch < c; ch++) {
        const T* xr = xs + ch * hw;
        const T* gr = gs + ch * hw;
        T* dr = out + ch * hw;
        const float gm = gamma[ch];
#pragma omp simd
        for (int64_t p = 0; p < len; p++) {
          const float xh = shared::layernorm_xhat(to_f32(xr[p]), mean[p], rstd[p]);
          dr[p] = from_f32<T>(shared::layernorm_dx(to_f32(gr[p]), gm, xh, rstd[p], m1[p], m2[p]));
        }
      }
    }
    return Status::Ok();
  });
  LW_RETURN_IF_ERROR(st);
  for (int64_t ch = 0; ch < c; ch++) {
    double sg = 0.0, sb = 0.0;
    for (int64_t t = 0; t < units; t++) {
      sg += pg[t * c + ch];
      sb += pb[t * c + ch];
    }
    dgamma[ch] = static_cast<float>(sg);
    dbeta[ch] = static_cast<float>(sb);
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
