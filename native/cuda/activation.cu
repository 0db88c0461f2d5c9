// CUDA activations (kernels/activation.h): ReLU, GELU (erf form), inverted dropout and drop path,
// forward and backward, for float32, bfloat16 and float16 storage (arithmetic in float). The
// per-element math and the dropout hash are native/shared/activation_math.h, compiled here and in
// native/cpu/activation.cc alike: GELU values are the CPU's bits, and dropout / drop-path masks
// are identical to the CPU's for the same (seed, offset, p) (element i, or sample i, draws counter
// offset + i + 1). Softmax is in activation_softmax.cu. Grid-stride loops, ReLU, GELU and drop
// path over 16-byte packs where the pointers allow (pointwise.cuh); no cuDNN. References: torch.nn.ReLU,
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

// Drop path over (batch, inner), a sample (row) at a time: row r's factor (keep ? scale : 0) comes
// from its draw in the forward (the row's first thread writes the mask) or from the mask in the
// backward, and the row is scaled in packs of V elements (V = 1, or 16 bytes when inner is a
// multiple of the pack and the pointers are aligned), q0, q0 + step, ...: no division per element.
template <typename T, int V, bool kForward>
struct DropPathRows {
  T* y;
  const T* x;
  uint8_t* mask_out;       // forward
  const uint8_t* mask_in;  // backward
  int64_t inner;
  uint64_t seed, base;
  float p, scale;
  LW_HD void row(int64_t r, int64_t q0, int64_t step) const {
    using P = pointwise::Pack<T, V>;
    bool keep;
    if constexpr (kForward) {
      keep = shared::dropout_keep(seed, base + static_cast<uint64_t>(r), p);
      if (q0 == 0) mask_out[r] = keep ? 1 : 0;
    } else {
      keep = mask_in[r] != 0;
    }
    const float f = shared::drop_path_factor(keep, scale);
    const P* xr = reinterpret_cast<const P*>(x + r * inner);
    P* yr = reinterpret_cast<P*>(y + r * inner);
    for (int64_t q = q0; q < inner / V; q += step) {
      const P v = xr[q];
      P o;
      for (int k = 0; k < V; k++) o.v[k] = from_f32<T>(to_f32(v.v[k]) * f);
      yr[q] = o;
    }
  }
};

// Rows blockIdx.y, + gridDim.y, ...; the blocks of x split a row.
template <typename Op>
__global__ void __launch_bounds__(kThreads) drop_path_kernel(Op op, int64_t batch) {
  const int64_t q0 = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t r = blockIdx.y; r < batch; r += gridDim.y) op.row(r, q0, step);
}

template <typename T, bool kForward>
Status launch_drop_path(Context& ctx, const char* op, T* y, const T* x, uint8_t* mask_out, const uint8_t* mask_in,
                        int64_t batch, int64_t inner, uint64_t seed, uint64_t base, float p, float scale) {
  if (batch == 0) return Status::Ok();
  constexpr int kPack = static_cast<int>(16 / sizeof(T));
  const bool packed = inner % kPack == 0 && pointwise::aligned16(y) && pointwise::aligned16(x);
  const int64_t units = packed ? inner / kPack : inner;
  const int64_t rows = batch < 65535 ? batch : 65535;
  const int64_t sms = ctx.props.multiProcessorCount > 0 ? ctx.props.multiProcessorCount : 80;
  const int64_t want = (units + kThreads - 1) / kThreads, fill = (sms * 32 + rows - 1) / rows;
  const dim3 grid(static_cast<unsigned>(want < fill ? want : fill), static_cast<unsigned>(rows));
  if (packed) {
    drop_path_kernel<<<grid, kThreads, 0, ctx.stream>>>(
        DropPathRows<T, kPack, kForward>{y, x, mask_out, mask_in, inner, seed, base, p, scale}, batch);
  } else {
    drop_path_kernel<<<grid, kThreads, 0, ctx.stream>>>(
        DropPathRows<T, 1, kForward>{y, x, mask_out, mask_in, inner, seed, base, p, scale}, batch);
  }
  return check_launch(ctx, op);
}

// inner == 0: only the mask (batch entries).
struct DropPathMask {
  uint8_t* mask;
  uint64_t seed, base;
  float p;
  __device__ void operator()(int64_t r) const { mask[r] = shared::dropout_keep(seed, base + static_cast<uint64_t>(r), p) ? 1 : 0; }
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
    return launch_drop_path<T, true>(ctx, op, static_cast<T*>(y), static_cast<const T*>(x), mask, nullptr, batch, inner,
                                     s, base, p, scale);
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
    if (inner == 0) return Status::Ok();
    return launch_drop_path<T, false>(ctx, op, static_cast<T*>(dx), static_cast<const T*>(dy), nullptr, mask, batch,
                                      inner, 0, 0, p, scale);
  });
}

}  // namespace layerwise::cuda
