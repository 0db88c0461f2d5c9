// CUDA activations (kernels/activation.h): ReLU, GELU (erf form), inverted dropout and drop path,
// forward and backward, for float32, bfloat16 and float16 storage (arithmetic in float). The
// per-element math and the dropout hash are native/shared/activation_math.h, compiled here and in
// native/cpu/activation.cc alike: GELU values are the CPU's bits, and dropout / drop-path masks
// are identical to the CPU's for the same (seed, offset, p) (element i, or sample i, draws counter
// offset + i + 1). Softmax is in activation_softmax.cu. Grid-stride loops, ReLU and GELU over
// 16-byte packs where the pointers allow (pointwise.cuh); no cuDNN. References: torch.nn.ReLU,
// torch.nn.GELU(approximate='none'), torch.nn.Dropout, timm DropPath; CUDA C++ Programming Guide
// (grid-stride loops).
#include <string>

#include "cuda/context.h"
#include "cuda/pointwise.cuh"
#include "shared/activation_math.h"

namespace layerwise::cuda {

namespace {

// Element functors of pointwise::map (pointwise.cuh): element values in, the output value out.
template <typename T>
struct Relu {
  __device__ T operator()(T x) const { return shared::keep_or_zero(shared::relu_keep(to_f32(x)), x); }
};

template <typename T>
struct ReluBackward {
  __device__ T operator()(T dy, T y) const { return shared::keep_or_zero(shared::relu_grad_keep(to_f32(y)), dy); }
};

template <typename T>
struct Gelu {
  __device__ T operator()(T x) const { return from_f32<T>(shared::gelu_value(to_f32(x))); }
};

template <typename T>
struct GeluBackward {
  __device__ T operator()(T dy, T x) const { return from_f32<T>(to_f32(dy) * shared::gelu_grad(to_f32(x))); }
};

template <typename T>
struct Dropout {
  T* y;
  uint8_t* mask;
  const T* x;
  uint64_t seed, base;
  float p, scale;
  __device__ void operator()(int64_t i) const {
    const bool keep = shared::dropout_keep(seed, base + static_cast<uint64_t>(i), p);
    mask[i] = keep ? 1 : 0;
    y[i] = from_f32<T>(shared::dropout_value(keep, to_f32(x[i]), scale));
  }
};

template <typename T>
struct DropoutBackward {
  T* dx;
  const T* dy;
  const uint8_t* mask;
  float scale;
  __device__ void operator()(int64_t i) const { dx[i] = from_f32<T>(shared::dropout_value(mask[i] != 0, to_f32(dy[i]), scale)); }
};

// Element e of (batch, inner) draws its sample's keep (the same draw for the whole row) and the
// row's first element writes the mask.
template <typename T>
struct DropPath {
  T* y;
  uint8_t* mask;
  const T* x;
  int64_t inner;
  uint64_t seed, base;
  float p, scale;
  __device__ void operator()(int64_t e) const {
    const int64_t r = e / inner;
    const bool keep = shared::dropout_keep(seed, base + static_cast<uint64_t>(r), p);
    if (e - r * inner == 0) mask[r] = keep ? 1 : 0;
    y[e] = from_f32<T>(to_f32(x[e]) * shared::drop_path_factor(keep, scale));
  }
};

// inner == 0: only the mask (batch entries).
struct DropPathMask {
  uint8_t* mask;
  uint64_t seed, base;
  float p;
  __device__ void operator()(int64_t r) const { mask[r] = shared::dropout_keep(seed, base + static_cast<uint64_t>(r), p) ? 1 : 0; }
};

template <typename T>
struct DropPathBackward {
  T* dx;
  const T* dy;
  const uint8_t* mask;
  int64_t inner;
  float scale;
  __device__ void operator()(int64_t e) const {
    dx[e] = from_f32<T>(to_f32(dy[e]) * shared::drop_path_factor(mask[e / inner] != 0, scale));
  }
};

Status check_probability(const char* op, float p, int64_t n) {
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  if (!(p >= 0.0f && p <= 1.0f))
    return Status::Invalid(op, "p must be in [0, 1], got " + std::to_string(p) + " (n=" + std::to_string(n) + ")");
  return Status::Ok();
}

}  // namespace

Status relu_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t n) {
  const char* op = "relu_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return pointwise::map1(ctx, op, n, static_cast<T*>(y), static_cast<const T*>(x), Relu<T>{});
  });
}

Status relu_backward(Context& ctx, void* dx, const void* dy, const void* y, DType dtype, int64_t n) {
  const char* op = "relu_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return pointwise::map2(ctx, op, n, static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(y), ReluBackward<T>{});
  });
}

Status gelu_forward(Context& ctx, void* y, const void* x, DType dtype, int64_t n) {
  const char* op = "gelu_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return pointwise::map1(ctx, op, n, static_cast<T*>(y), static_cast<const T*>(x), Gelu<T>{});
  });
}

Status gelu_backward(Context& ctx, void* dx, const void* dy, const void* x, DType dtype, int64_t n) {
  const char* op = "gelu_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return pointwise::map2(ctx, op, n, static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(x), GeluBackward<T>{});
  });
}

Status dropout_forward(Context& ctx, void* y, uint8_t* mask, const void* x, DType dtype, int64_t n, float p,
                       int64_t seed, int64_t offset) {
  const char* op = "dropout_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_probability(op, p, n));
  const float scale = shared::dropout_scale(p);
  const uint64_t s = static_cast<uint64_t>(seed);
  const uint64_t base = static_cast<uint64_t>(offset) + 1;
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, n, Dropout<T>{static_cast<T*>(y), mask, static_cast<const T*>(x), s, base, p, scale});
  });
}

Status dropout_backward(Context& ctx, void* dx, const void* dy, const uint8_t* mask, DType dtype, int64_t n,
                        float p) {
  const char* op = "dropout_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_probability(op, p, n));
  const float scale = shared::dropout_scale(p);
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, n, DropoutBackward<T>{static_cast<T*>(dx), static_cast<const T*>(dy), mask, scale});
  });
}

Status drop_path_forward(Context& ctx, void* y, uint8_t* mask, const void* x, DType dtype, int64_t batch,
                         int64_t inner, float p, int64_t seed, int64_t offset) {
  const char* op = "drop_path_forward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"batch", batch}, {"inner", inner}}));
  LW_STATUS_TRY(check_probability(op, p, batch));
  const float scale = shared::dropout_scale(p);
  const uint64_t s = static_cast<uint64_t>(seed);
  const uint64_t base = static_cast<uint64_t>(offset) + 1;
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (inner == 0) return launch_for(ctx, op, batch, DropPathMask{mask, s, base, p});
    return launch_for(ctx, op, batch * inner,
                      DropPath<T>{static_cast<T*>(y), mask, static_cast<const T*>(x), inner, s, base, p, scale});
  });
}

Status drop_path_backward(Context& ctx, void* dx, const void* dy, const uint8_t* mask, DType dtype, int64_t batch,
                          int64_t inner, float p) {
  const char* op = "drop_path_backward";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"batch", batch}, {"inner", inner}}));
  LW_STATUS_TRY(check_probability(op, p, batch));
  const float scale = shared::dropout_scale(p);
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, batch * inner, DropPathBackward<T>{static_cast<T*>(dx), static_cast<const T*>(dy), mask, inner, scale});
  });
}

}  // namespace layerwise::cuda
