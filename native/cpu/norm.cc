// CPU normalization: BatchNorm2d (training with batch statistics, evaluation with running
// statistics; forward and backward) and LayerNorm over the last dimension.
// References: torch.nn.BatchNorm2d and torch.nn.LayerNorm (https://pytorch.org/docs/stable/nn.html);
// the backward formulas are PyTorch's batch_norm_backward / layer_norm_backward.
// Statistics accumulate in double (two passes: mean, then centered squares). BatchNorm runs one
// channel per thread and LayerNorm one row per thread, so results do not depend on the thread
// count; LayerNorm's dgamma/dbeta sum fixed row groups and then add the groups in order.
#include <cmath>
#include <new>
#include <vector>

#include "cpu/context.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

// Sum over the n runs of hw values of channel ch: x[i, ch, :] for i < n.
inline double channel_sum(const float* x, int64_t n, int64_t c, int64_t hw, int64_t ch) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const float* run = x + (i * c + ch) * hw;  // (hw)
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < hw; j++) s += static_cast<double>(run[j]);
  }
  return s;
}

// y = x * a + b on channel ch.
inline void channel_affine(float* y, const float* x, int64_t n, int64_t c, int64_t hw, int64_t ch, float a,
                           float b) {
  for (int64_t i = 0; i < n; i++) {
    const float* in = x + (i * c + ch) * hw;  // (hw)
    float* out = y + (i * c + ch) * hw;       // (hw)
#pragma omp simd
    for (int64_t j = 0; j < hw; j++) out[j] = std::fma(in[j], a, b);
  }
}

Status check_bn(const char* op, int64_t n, int64_t c, int64_t hw, int64_t min_count) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"n", n}, {"c", c}, {"hw", hw}}));
  if (c > 0 && n * hw < min_count)
    return Status::Invalid(op, "expected more than " + std::to_string(min_count - 1) +
                                   " value(s) per channel in training mode (" +
                                   describe({{"n", n}, {"c", c}, {"hw", hw}}) + ")");
  return Status::Ok();
}

}  // namespace

Status batchnorm2d_forward_train(Context& ctx, float* y, float* save_mean, float* save_invstd,
                                 float* running_mean, float* running_var, const float* x, const float* gamma,
                                 const float* beta, int64_t n, int64_t c, int64_t hw, float momentum, float eps) {
  LW_RETURN_IF_ERROR(check_bn("batchnorm2d_forward_train", n, c, hw, 2));
  const int64_t count = n * hw;
  const double mom = momentum;
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
  for (int64_t ch = 0; ch < c; ch++) {
    const double mean = channel_sum(x, n, c, hw, ch) / static_cast<double>(count);
    double sq = 0.0;
    for (int64_t i = 0; i < n; i++) {
      const float* run = x + (i * c + ch) * hw;  // (hw)
#pragma omp simd reduction(+ : sq)
      for (int64_t j = 0; j < hw; j++) {
        const double d = static_cast<double>(run[j]) - mean;
        sq += d * d;
      }
    }
    const double var = sq / static_cast<double>(count);  // biased: used to normalize
    const double unbiased = sq / static_cast<double>(count - 1);
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    save_mean[ch] = static_cast<float>(mean);
    save_invstd[ch] = static_cast<float>(invstd);
    running_mean[ch] = static_cast<float>((1.0 - mom) * running_mean[ch] + mom * mean);
    running_var[ch] = static_cast<float>((1.0 - mom) * running_var[ch] + mom * unbiased);
    const double a = static_cast<double>(gamma[ch]) * invstd;
    channel_affine(y, x, n, c, hw, ch, static_cast<float>(a), static_cast<float>(beta[ch] - mean * a));
  }
  return Status::Ok();
}

Status batchnorm2d_forward_eval(Context& ctx, float* y, const float* x, const float* gamma, const float* beta,
                                const float* running_mean, const float* running_var, int64_t n, int64_t c,
                                int64_t hw, float eps) {
  LW_RETURN_IF_ERROR(check_bn("batchnorm2d_forward_eval", n, c, hw, 0));
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
  for (int64_t ch = 0; ch < c; ch++) {
    const double a = gamma[ch] / std::sqrt(static_cast<double>(running_var[ch]) + eps);
    channel_affine(y, x, n, c, hw, ch, static_cast<float>(a), static_cast<float>(beta[ch] - running_mean[ch] * a));
  }
  return Status::Ok();
}

// With xhat = (x - mean) * invstd and M = n * hw:
//   dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma * invstd * (dy - dbeta / M - (x - mean) * invstd^2 * sum(dy * (x - mean)) / M).
Status batchnorm2d_backward_train(Context& ctx, float* dx, float* dgamma, float* dbeta, const float* dy,
                                  const float* x, const float* gamma, const float* save_mean,
                                  const float* save_invstd, int64_t n, int64_t c, int64_t hw) {
  LW_RETURN_IF_ERROR(check_bn("batchnorm2d_backward_train", n, c, hw, 1));
  const double count = static_cast<double>(n * hw);
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
  for (int64_t ch = 0; ch < c; ch++) {
    const float mean = save_mean[ch];
    const double invstd = save_invstd[ch];
    double sum_dy = 0.0, sum_dy_xmu = 0.0;
    for (int64_t i = 0; i < n; i++) {
      const float* g = dy + (i * c + ch) * hw;  // (hw)
      const float* in = x + (i * c + ch) * hw;  // (hw)
#pragma omp simd reduction(+ : sum_dy, sum_dy_xmu)
      for (int64_t j = 0; j < hw; j++) {
        sum_dy += static_cast<double>(g[j]);
        sum_dy_xmu += static_cast<double>(g[j]) * (static_cast<double>(in[j]) - mean);
      }
    }
    dbeta[ch] = static_cast<float>(sum_dy);
    dgamma[ch] = static_cast<float>(sum_dy_xmu * invstd);
    const float mean_dy = static_cast<float>(sum_dy / count);
    const float k = static_cast<float>(sum_dy_xmu * invstd * invstd / count);
    const float w = static_cast<float>(gamma[ch] * invstd);
    for (int64_t i = 0; i < n; i++) {
      const float* g = dy + (i * c + ch) * hw;  // (hw)
      const float* in = x + (i * c + ch) * hw;  // (hw)
      float* out = dx + (i * c + ch) * hw;      // (hw)
#pragma omp simd
      for (int64_t j = 0; j < hw; j++) out[j] = (g[j] - mean_dy - (in[j] - mean) * k) * w;
    }
  }
  return Status::Ok();
}

// Running statistics are constants here: dx = dy * gamma / sqrt(running_var + eps).
Status batchnorm2d_backward_eval(Context& ctx, float* dx, float* dgamma, float* dbeta, const float* dy,
                                 const float* x, const float* gamma, const float* running_mean,
                                 const float* running_var, int64_t n, int64_t c, int64_t hw, float eps) {
  LW_RETURN_IF_ERROR(check_bn("batchnorm2d_backward_eval", n, c, hw, 0));
#pragma omp parallel for schedule(static) if (n * c * hw > kParallelMin)
  for (int64_t ch = 0; ch < c; ch++) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[ch]) + eps);
    const float mean = running_mean[ch];
    const float w = static_cast<float>(gamma[ch] * invstd);
    double sum_dy = 0.0, sum_dy_xmu = 0.0;
    for (int64_t i = 0; i < n; i++) {
      const float* g = dy + (i * c + ch) * hw;  // (hw)
      const float* in = x + (i * c + ch) * hw;  // (hw)
      float* out = dx + (i * c + ch) * hw;      // (hw)
#pragma omp simd reduction(+ : sum_dy, sum_dy_xmu)
      for (int64_t j = 0; j < hw; j++) {
        const float gj = g[j];
        sum_dy += static_cast<double>(gj);
        sum_dy_xmu += static_cast<double>(gj) * (static_cast<double>(in[j]) - mean);
        out[j] = gj * w;  // after the reads: dx may alias dy
      }
    }
    dbeta[ch] = static_cast<float>(sum_dy);
    dgamma[ch] = static_cast<float>(sum_dy_xmu * invstd);
  }
  return Status::Ok();
}

Status layernorm_forward(Context& ctx, float* y, float* save_mean, float* save_rstd, const float* x,
                         const float* gamma, const float* beta, int64_t rows, int64_t cols, float eps) {
  const char* op = "layernorm_forward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
  if (rows > 0 && cols == 0) return Status::Invalid(op, "cols must be positive (rows=" + std::to_string(rows) + ", cols=0)");
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* in = x + r * cols;  // (cols)
    float* out = y + r * cols;       // (cols)
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; j++) s += static_cast<double>(in[j]);
    const double mean = s / static_cast<double>(cols);
    double sq = 0.0;
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < cols; j++) {
      const double d = static_cast<double>(in[j]) - mean;
      sq += d * d;
    }
    const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(cols) + static_cast<double>(eps));
    save_mean[r] = static_cast<float>(mean);
    save_rstd[r] = static_cast<float>(rstd);
    const float a = static_cast<float>(rstd);
    const float b = static_cast<float>(-mean * rstd);
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) out[j] = std::fma(std::fma(in[j], a, b), gamma[j], beta[j]);
  }
  return Status::Ok();
}

// Per row, with g = dy * gamma and xhat = (x - mean) * rstd:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat));  dgamma = sum_rows dy * xhat; dbeta = sum_rows dy.
Status layernorm_backward(Context& ctx, float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                          const float* gamma, const float* save_mean, const float* save_rstd, int64_t rows,
                          int64_t cols) {
  const char* op = "layernorm_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"rows", rows}, {"cols", cols}}));
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
      const float* g = dy + r * cols;  // (cols)
      const float* in = x + r * cols;  // (cols)
      const float mean = save_mean[r], rstd = save_rstd[r];
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) {
        accg[j] += static_cast<double>(g[j]) * static_cast<double>((in[j] - mean) * rstd);
        accb[j] += static_cast<double>(g[j]);
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
    const float* g = dy + r * cols;  // (cols)
    const float* in = x + r * cols;  // (cols)
    float* out = dx + r * cols;      // (cols)
    const float mean = save_mean[r], rstd = save_rstd[r];
    double s1 = 0.0, s2 = 0.0;
#pragma omp simd reduction(+ : s1, s2)
    for (int64_t j = 0; j < cols; j++) {
      const double gj = static_cast<double>(g[j]) * static_cast<double>(gamma[j]);
      s1 += gj;
      s2 += gj * static_cast<double>((in[j] - mean) * rstd);
    }
    const float a = static_cast<float>(s1 / static_cast<double>(cols));
    const float b = static_cast<float>(s2 / static_cast<double>(cols));
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {
      const float xhat = (in[j] - mean) * rstd;
      out[j] = rstd * (g[j] * gamma[j] - a - xhat * b);
    }
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
