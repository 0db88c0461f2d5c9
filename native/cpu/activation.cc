// CPU activations: ReLU, GELU (erf form), row-wise softmax and inverted dropout, forward and
// backward, for float32, bfloat16 and float16 storage (arithmetic in float). The per-element
// math (exp, normal CDF, GELU and its derivative, dropout hash) lives in
// native/shared/activation_math.h, which native/cuda/activation*.cu compiles too.
// References: torch.nn.ReLU, torch.nn.GELU(approximate='none'), torch.nn.Softmax(dim=-1),
// torch.nn.Dropout (https://pytorch.org/docs/stable/nn.html).
#include <cmath>
#include <type_traits>

#include "cpu/context.h"
#include "shared/activation_math.h"

namespace layerwise::cpu {

using shared::drop_path_factor;
using shared::dropout_keep;
using shared::dropout_scale;
using shared::dropout_value;
using shared::exp_f32;
using shared::gelu_grad;
using shared::gelu_value;
using shared::keep_or_zero;
using shared::relu_grad_keep;
using shared::relu_keep;
using shared::softmax_grad;

namespace {

constexpr int64_t kParallelMin = 1 << 15;

Status check_probability(const char* op, float p, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"n", n}}));
  if (!(p >= 0.0f && p <= 1.0f))
    return Status::Invalid(op, "p must be in [0, 1], got " + std::to_string(p) + " (n=" + std::to_string(n) + ")");
  return Status::Ok();
}

}  // namespace

Status relu_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("relu_forward", {{"n", n}}));
  return dispatch_float(dtype, "relu_forward", [&](auto tag) {
    using T = decltype(tag);
    T* yt = static_cast<T*>(y);
    const T* xt = static_cast<const T*>(x);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) yt[i] = keep_or_zero(relu_keep(to_f32(xt[i])), xt[i]);  // NaN passes through
    return Status::Ok();
  });
}

Status relu_backward(Context& ctx, void* dx, const void* dy, const void* y, DType dtype, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("relu_backward", {{"n", n}}));
  // As PyTorch's threshold_backward: zero where y <= 0.
  return dispatch_float(dtype, "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    T* dxt = static_cast<T*>(dx);
    const T* dyt = static_cast<const T*>(dy);
    const T* yt = static_cast<const T*>(y);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) dxt[i] = keep_or_zero(relu_grad_keep(to_f32(yt[i])), dyt[i]);
    return Status::Ok();
  });
}

Status gelu_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("gelu_forward", {{"n", n}}));
  return dispatch_float(dtype, "gelu_forward", [&](auto tag) {
    using T = decltype(tag);
    T* yt = static_cast<T*>(y);
    const T* xt = static_cast<const T*>(x);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin / 8)
    for (int64_t i = 0; i < n; i++) yt[i] = from_f32<T>(gelu_value(to_f32(xt[i])));
    return Status::Ok();
  });
}

// dx = dy * d/dx [x Phi(x)] (shared::gelu_grad).
Status gelu_backward(Context& ctx, void* dx, const void* dy, const void* x, DType dtype, int64_t n) {
  LW_RETURN_IF_ERROR(check_sizes("gelu_backward", {{"n", n}}));
  return dispatch_float(dtype, "gelu_backward", [&](auto tag) {
    using T = decltype(tag);
    T* dxt = static_cast<T*>(dx);
    const T* dyt = static_cast<const T*>(dy);
    const T* xt = static_cast<const T*>(x);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin / 8)
    for (int64_t i = 0; i < n; i++) dxt[i] = from_f32<T>(to_f32(dyt[i]) * gelu_grad(to_f32(xt[i])));
    return Status::Ok();
  });
}

// y = exp(x - max) / sum exp(x - max) per row; the sum accumulates in double. For low-precision
// storage the exponentials are kept in float until the row is normalized.
Status softmax_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t rows, int64_t cols) {
  LW_RETURN_IF_ERROR(check_sizes("softmax_forward", {{"rows", rows}, {"cols", cols}}));
  return dispatch_float(dtype, "softmax_forward", [&](auto tag) {
    using T = decltype(tag);
    const T* xt = static_cast<const T*>(x);
    T* yt = static_cast<T*>(y);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin / 4)
    for (int64_t r = 0; r < rows; r++) {
      const T* xr = xt + r * cols;  // (cols)
      T* yr = yt + r * cols;        // (cols)
      float m = -INFINITY;
#pragma omp simd reduction(max : m)
      for (int64_t j = 0; j < cols; j++) m = to_f32(xr[j]) > m ? to_f32(xr[j]) : m;
      double s = 0.0;
      if constexpr (std::is_same_v<T, float>) {
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; j++) {
          const float e = exp_f32(xr[j] - m);
          yr[j] = e;
          s += static_cast<double>(e);
        }
        const float inv = static_cast<float>(1.0 / s);
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
      } else {
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; j++) s += static_cast<double>(exp_f32(to_f32(xr[j]) - m));
        const float inv = static_cast<float>(1.0 / s);
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) yr[j] = from_f32<T>(exp_f32(to_f32(xr[j]) - m) * inv);
      }
    }
    return Status::Ok();
  });
}

// dx = y * (dy - sum_j dy_j y_j) per row.
Status softmax_backward(Context& ctx, void* dx, const void* dy, const void* y, DType dtype, int64_t rows,
                        int64_t cols) {
  LW_RETURN_IF_ERROR(check_sizes("softmax_backward", {{"rows", rows}, {"cols", cols}}));
  return dispatch_float(dtype, "softmax_backward", [&](auto tag) {
    using T = decltype(tag);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const T* dyr = static_cast<const T*>(dy) + r * cols;  // (cols)
      const T* yr = static_cast<const T*>(y) + r * cols;    // (cols)
      T* dxr = static_cast<T*>(dx) + r * cols;              // (cols)
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < cols; j++) s += static_cast<double>(to_f32(dyr[j])) * static_cast<double>(to_f32(yr[j]));
      const float sf = static_cast<float>(s);
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) dxr[j] = from_f32<T>(softmax_grad(to_f32(yr[j]), to_f32(dyr[j]), sf));
    }
    return Status::Ok();
  });
}

Status dropout_forward(Context& ctx, void* y, uint8_t* mask, const void* x, DType dtype, int64_t n, float p,
                       int64_t seed, int64_t offset) {
  LW_RETURN_IF_ERROR(check_probability("dropout_forward", p, n));
  const float scale = dropout_scale(p);
  const uint64_t s = static_cast<uint64_t>(seed);
  const uint64_t base = static_cast<uint64_t>(offset) + 1;
  return dispatch_float(dtype, "dropout_forward", [&](auto tag) {
    using T = decltype(tag);
    T* yt = static_cast<T*>(y);
    const T* xt = static_cast<const T*>(x);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin / 4)
    for (int64_t i = 0; i < n; i++) {
      const bool keep = dropout_keep(s, base + static_cast<uint64_t>(i), p);
      mask[i] = keep ? 1 : 0;
      yt[i] = from_f32<T>(dropout_value(keep, to_f32(xt[i]), scale));
    }
    return Status::Ok();
  });
}

Status dropout_backward(Context& ctx, void* dx, const void* dy, const uint8_t* mask, DType dtype, int64_t n,
                        float p) {
  LW_RETURN_IF_ERROR(check_probability("dropout_backward", p, n));
  const float scale = dropout_scale(p);
  return dispatch_float(dtype, "dropout_backward", [&](auto tag) {
    using T = decltype(tag);
    T* dxt = static_cast<T*>(dx);
    const T* dyt = static_cast<const T*>(dy);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) dxt[i] = from_f32<T>(dropout_value(mask[i] != 0, to_f32(dyt[i]), scale));
    return Status::Ok();
  });
}

// One draw per sample (counter offset + i + 1, as dropout's element i); rows in parallel.
Status drop_path_forward(Context& ctx, void* y, uint8_t* mask, const void* x, DType dtype, int64_t batch,
                         int64_t inner, float p, int64_t seed, int64_t offset) {
  const char* op = "drop_path_forward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"inner", inner}}));
  LW_RETURN_IF_ERROR(check_probability(op, p, batch));
  const float scale = dropout_scale(p);
  const uint64_t s = static_cast<uint64_t>(seed);
  const uint64_t base = static_cast<uint64_t>(offset) + 1;
  for (int64_t i = 0; i < batch; i++) mask[i] = dropout_keep(s, base + static_cast<uint64_t>(i), p) ? 1 : 0;
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
#pragma omp parallel for schedule(static) if (batch * inner > kParallelMin)
    for (int64_t i = 0; i < batch; i++) {
      const T* xr = static_cast<const T*>(x) + i * inner;  // (inner)
      T* yr = static_cast<T*>(y) + i * inner;              // (inner)
      const float f = drop_path_factor(mask[i] != 0, scale);
#pragma omp simd
      for (int64_t j = 0; j < inner; j++) yr[j] = from_f32<T>(to_f32(xr[j]) * f);
    }
    return Status::Ok();
  });
}

Status drop_path_backward(Context& ctx, void* dx, const void* dy, const uint8_t* mask, DType dtype, int64_t batch,
                          int64_t inner, float p) {
  const char* op = "drop_path_backward";
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", batch}, {"inner", inner}}));
  LW_RETURN_IF_ERROR(check_probability(op, p, batch));
  const float scale = dropout_scale(p);
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
#pragma omp parallel for schedule(static) if (batch * inner > kParallelMin)
    for (int64_t i = 0; i < batch; i++) {
      const T* dyr = static_cast<const T*>(dy) + i * inner;  // (inner)
      T* dxr = static_cast<T*>(dx) + i * inner;              // (inner)
      const float f = drop_path_factor(mask[i] != 0, scale);
#pragma omp simd
      for (int64_t j = 0; j < inner; j++) dxr[j] = from_f32<T>(to_f32(dyr[j]) * f);
    }
    return Status::Ok();
  });
}

}  // namespace layerwise::cpu
