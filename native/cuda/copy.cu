// CUDA memory kernels (kernels/copy.h): allocation through the caching allocator (allocator.h),
// fills, casts, device copies, host transfers, permutes, uint8 -> float normalization and block
// copies. The per-element math is native/shared/copy_math.h, shared with native/cpu/copy.cc.
//
// Host transfers: copy_from_host copies the (JS-owned, reusable at once) host bytes into pinned
// staging memory and DMAs them on ctx.copy_stream after the compute work that used the destination
// (allocator.h: staged_copy_to_device), and later kernels wait for the copy; the host does not
// wait, except when every staging buffer still holds a copy in flight. copy_to_host enqueues the copy on ctx.stream and synchronizes it:
// the only host wait of a step. Device-to-device copies are cudaMemcpyAsync on ctx.stream (through
// a scratch buffer when the ranges overlap, as memmove).
// References: CUDA Runtime API "Memory Management" (cudaMemcpyAsync) and the CUDA C++ Programming
// Guide's grid-stride loops; PyTorch's permute is a gather of the same index math.
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/allocator.h"
#include "cuda/context.h"
#include "shared/copy_math.h"

namespace layerwise::cuda {

namespace {

// dst = src[0, bytes) on ctx.stream, also when the ranges overlap.
Status device_memmove(Context& ctx, const char* op, void* dst, const void* src, int64_t bytes) {
  LW_STATUS_TRY(check_context(ctx, op));
  if (bytes <= 0 || dst == src) return Status::Ok();
  const auto* s = static_cast<const uint8_t*>(src);
  auto* d = static_cast<uint8_t*>(dst);
  if (d + bytes <= s || s + bytes <= d) {
    LW_CUDA_TRY(ctx, op, cudaMemcpyAsync(d, s, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, ctx.stream));
    return Status::Ok();
  }
  void* tmp = nullptr;
  LW_STATUS_TRY(scratch_alloc(ctx, op, &tmp, bytes));
  Status st = cuda_status(ctx, op, cudaMemcpyAsync(tmp, s, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, ctx.stream),
                          "cudaMemcpyAsync");
  if (st.ok())
    st = cuda_status(ctx, op, cudaMemcpyAsync(d, tmp, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, ctx.stream),
                     "cudaMemcpyAsync");
  scratch_free(ctx, tmp);  // stream-ordered: later users of the block run after both copies
  return st;
}

template <typename T>
struct FillOp {
  T* y;
  T value;
  __device__ void operator()(int64_t i) const { y[i] = value; }
};

template <typename D, typename S>
struct CastOp {
  D* y;
  const S* x;
  __device__ void operator()(int64_t i) const { y[i] = shared::convert<D>(x[i]); }
};

// y[i] = x[offset of i]; I is the index type (uint32_t when numel < 2^32).
template <typename E, typename I>
struct PermuteOp {
  E* y;
  const E* x;
  shared::PermuteGeometry geo;
  __device__ void operator()(int64_t i) const {
    y[i] = x[shared::permute_source_offset<I>(geo, geo.ndim, static_cast<I>(i))];
  }
};

template <typename E>
Status launch_permute(Context& ctx, void* y, const void* x, const shared::PermuteGeometry& geo, int64_t numel) {
  auto* yt = static_cast<E*>(y);
  const auto* xt = static_cast<const E*>(x);
  if (numel <= static_cast<int64_t>(UINT32_MAX)) return launch_for(ctx, "permute", numel, PermuteOp<E, uint32_t>{yt, xt, geo});
  return launch_for(ctx, "permute", numel, PermuteOp<E, int64_t>{yt, xt, geo});
}

// One thread per element of y, in y's order; coef holds scale[c] then shift[c]. I is the index
// type: uint32_t when n * c * hw < 2^32 (a batch of 256 224-px images has 3.9e7), as 64-bit
// divisions cost several times more on the GPU.
template <typename T, typename I>
struct NormalizeOp {
  T* y;
  const uint8_t* x;
  const float* coef;
  I c, hw;
  bool x_channels_last, y_channels_last;
  __device__ void operator()(int64_t index) const {
    const I e = static_cast<I>(index);
    I i, k, j;
    if (y_channels_last) {  // e = (i * hw + j) * c + k
      const I row = e / c;
      k = e - row * c;
      i = row / hw;
      j = row - i * hw;
    } else {  // e = (i * c + k) * hw + j
      const I row = e / hw;
      j = e - row * hw;
      i = row / c;
      k = row - i * c;
    }
    const I src = x_channels_last ? (i * hw + j) * c + k : (i * c + k) * hw + j;
    y[e] = from_f32<T>(shared::normalize_value(x[src], coef[k], coef[c + k]));
  }
};

// Block copy in words of W bytes (every offset, stride and length is a multiple of W).
template <typename W>
struct BlockOp {
  W* dst;
  const W* src;
  int64_t block, src_stride, src_offset, dst_stride, dst_offset;  // in words
  __device__ void operator()(int64_t t) const {
    const int64_t o = t / block, j = t - o * block;
    dst[o * dst_stride + dst_offset + j] = src[o * src_stride + src_offset + j];
  }
};

template <typename W>
Status launch_block(Context& ctx, void* dst, const void* src, int64_t outer, int64_t block, int64_t src_stride,
                    int64_t src_offset, int64_t dst_stride, int64_t dst_offset) {
  const int64_t w = sizeof(W);
  const BlockOp<W> f{static_cast<W*>(dst), static_cast<const W*>(src), block / w, src_stride / w, src_offset / w,
                     dst_stride / w, dst_offset / w};
  return launch_for(ctx, "copy_block", outer * (block / w), f);
}

}  // namespace

Status device_alloc(Context& ctx, void** out, int64_t bytes) {
  if (bytes < 0) return Status::Invalid("alloc", "negative size " + std::to_string(bytes));
  return scratch_alloc(ctx, "alloc", out, bytes);
}

Status device_free(Context& ctx, void* ptr) {
  if (ptr == nullptr || allocator_free(ctx, ptr)) return Status::Ok();
  char text[96];
  std::snprintf(text, sizeof text, "pointer %p is not a live block of the CUDA allocator (freed twice?)", ptr);
  return Status::Invalid("free", text);
}

Status device_synchronize(Context& ctx) {
  const char* op = "synchronize";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_CUDA_TRY(ctx, op, cudaStreamSynchronize(ctx.copy_stream));
  LW_CUDA_TRY(ctx, op, cudaStreamSynchronize(ctx.stream));
  return Status::Ok();
}

Status fill(Context& ctx, void* y, DType dtype, float value, int64_t n) {
  LW_STATUS_TRY(check_sizes("fill", {{"n", n}}));
  return shared::dispatch_any(dtype, "fill", [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, "fill", n, FillOp<T>{static_cast<T*>(y), shared::convert_from_float<T>(value)});
  });
}

Status cast(Context& ctx, void* y, const void* x, DType y_dtype, DType x_dtype, int64_t n) {
  LW_STATUS_TRY(check_sizes("cast", {{"n", n}}));
  return shared::dispatch_any(x_dtype, "cast", [&](auto source) {
    using S = decltype(source);
    return shared::dispatch_any(y_dtype, "cast", [&](auto target) {
      using D = decltype(target);
      if constexpr (std::is_same_v<S, D>) {
        return device_memmove(ctx, "cast", y, x, n * static_cast<int64_t>(sizeof(S)));
      } else {
        return launch_for(ctx, "cast", n, CastOp<D, S>{static_cast<D*>(y), static_cast<const S*>(x)});
      }
    });
  });
}

Status copy_bytes(Context& ctx, uint8_t* dst, const uint8_t* src, int64_t bytes) {
  return device_memmove(ctx, "copy_bytes", dst, src, bytes);
}

Status copy_from_host(Context& ctx, uint8_t* dst, const void* host_src, int64_t bytes) {
  return staged_copy_to_device(ctx, "copy_from_host", dst, host_src, bytes);
}

Status copy_to_host(Context& ctx, void* host_dst, const uint8_t* src, int64_t bytes) {
  const char* op = "copy_to_host";
  LW_STATUS_TRY(check_context(ctx, op));
  if (bytes <= 0) return Status::Ok();
  LW_CUDA_TRY(ctx, op, cudaMemcpyAsync(host_dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost, ctx.stream));
  LW_CUDA_TRY(ctx, op, cudaStreamSynchronize(ctx.stream));
  return Status::Ok();
}

Status permute(Context& ctx, void* y, const void* x, DType dtype, int64_t numel, int64_t ndim,
               const int64_t* host_shape, const int64_t* host_perm) {
  shared::PermuteGeometry geo;
  LW_STATUS_TRY(shared::make_permute_geometry("permute", numel, ndim, host_shape, host_perm, &geo));
  switch (dtype_size(dtype)) {  // only the element size matters
    case 4: return launch_permute<uint32_t>(ctx, y, x, geo, numel);
    case 2: return launch_permute<uint16_t>(ctx, y, x, geo, numel);
    default: return launch_permute<uint8_t>(ctx, y, x, geo, numel);
  }
}

Status normalize_u8(Context& ctx, void* y, const uint8_t* x, DType dtype, int64_t n, int64_t c, int64_t hw,
                    bool x_channels_last, bool y_channels_last, const float* host_mean, const float* host_std) {
  const char* op = "normalize_u8";
  LW_STATUS_TRY(check_sizes(op, {{"n", n}, {"c", c}, {"hw", hw}}));
  std::vector<float> coef(static_cast<size_t>(2 * c));
  for (int64_t k = 0; k < c; k++) {
    if (!shared::normalize_coefficients(host_mean[k], host_std[k], &coef[k], &coef[c + k]))
      return Status::Invalid(op, "std[" + std::to_string(k) + "] must be positive");
  }
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (n * c * hw == 0) return check_context(ctx, op);
    // The coefficients travel to the device like any host data; the scratch block is freed once
    // the kernel is enqueued (stream-ordered reuse).
    void* dev_coef = nullptr;
    const int64_t coef_bytes = 2 * c * static_cast<int64_t>(sizeof(float));
    LW_STATUS_TRY(scratch_alloc(ctx, op, &dev_coef, coef_bytes));
    Status st = staged_copy_to_device(ctx, op, static_cast<uint8_t*>(dev_coef), coef.data(), coef_bytes);
    if (st.ok()) {
      auto* yt = static_cast<T*>(y);
      const auto* coef_dev = static_cast<const float*>(dev_coef);
      if (n * c * hw <= static_cast<int64_t>(UINT32_MAX)) {
        const NormalizeOp<T, uint32_t> f{yt, x, coef_dev, static_cast<uint32_t>(c), static_cast<uint32_t>(hw),
                                         x_channels_last, y_channels_last};
        st = launch_for(ctx, op, n * c * hw, f);
      } else {
        st = launch_for(ctx, op, n * c * hw, NormalizeOp<T, int64_t>{yt, x, coef_dev, c, hw, x_channels_last, y_channels_last});
      }
    }
    scratch_free(ctx, dev_coef);
    return st;
  });
}

// Blocks move in the widest word (16, 8, 4, 2 or 1 bytes) that divides every byte offset, stride
// and length and both base addresses; a single block is one cudaMemcpyAsync.
Status copy_block(Context& ctx, void* dst, const void* src, DType dtype, int64_t outer, int64_t block,
                  int64_t src_stride, int64_t src_offset, int64_t dst_stride, int64_t dst_offset) {
  const char* op = "copy_block";
  LW_STATUS_TRY(check_sizes(op, {{"outer", outer}, {"block", block}, {"src_stride", src_stride},
                                 {"src_offset", src_offset}, {"dst_stride", dst_stride}, {"dst_offset", dst_offset}}));
  if (outer > 1 && dst_stride < block)
    return Status::Invalid(op, "dst_stride must be at least block so that blocks do not overlap (" +
                                   describe({{"outer", outer}, {"block", block}, {"dst_stride", dst_stride}}) + ")");
  LW_STATUS_TRY(check_context(ctx, op));
  if (outer == 0 || block == 0) return Status::Ok();
  const int64_t es = dtype_size(dtype);
  if (es == 0) return Status::Invalid(op, "unknown dtype");
  auto* d = static_cast<uint8_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  if (outer == 1) {
    LW_CUDA_TRY(ctx, op, cudaMemcpyAsync(d + dst_offset * es, s + src_offset * es, static_cast<size_t>(block * es),
                                         cudaMemcpyDeviceToDevice, ctx.stream));
    return Status::Ok();
  }
  const uint64_t bits = static_cast<uint64_t>(block * es) | static_cast<uint64_t>(src_stride * es) |
                        static_cast<uint64_t>(src_offset * es) | static_cast<uint64_t>(dst_stride * es) |
                        static_cast<uint64_t>(dst_offset * es) | reinterpret_cast<uintptr_t>(dst) |
                        reinterpret_cast<uintptr_t>(src);
  const int64_t bb = block * es, ss = src_stride * es, so = src_offset * es, ds = dst_stride * es, dof = dst_offset * es;
  if (bits % 16 == 0) return launch_block<uint4>(ctx, d, s, outer, bb, ss, so, ds, dof);
  if (bits % 8 == 0) return launch_block<uint2>(ctx, d, s, outer, bb, ss, so, ds, dof);
  if (bits % 4 == 0) return launch_block<uint32_t>(ctx, d, s, outer, bb, ss, so, ds, dof);
  if (bits % 2 == 0) return launch_block<uint16_t>(ctx, d, s, outer, bb, ss, so, ds, dof);
  return launch_block<uint8_t>(ctx, d, s, outer, bb, ss, so, ds, dof);
}

}  // namespace layerwise::cuda
