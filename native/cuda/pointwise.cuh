// Vectorized pointwise launches for the elementwise and activation families (elementwise.cu,
// activation.cu): y[i] = f(a[i]) or f(a[i], b[i]) over n elements of one storage type T, where f
// maps element values (T) to a value (T) and does the float math itself.
//
// A plain grid-stride loop moves one element per thread per iteration, and since y may alias an
// input the compiler cannot hoist the next load above the previous store: a warp then has 64
// bytes of a bfloat16 input in flight, far too little to saturate HBM. Here every thread moves
// kPack = 16 / sizeof(T) consecutive elements with one 16-byte load per input and one 16-byte
// store (8x the bytes in flight for 16-bit types, as PyTorch's vectorized elementwise kernels),
// when every pointer is 16-byte aligned (the caching allocator's blocks always are); the last
// n % kPack elements, and unaligned pointers, go element by element. The values and their order
// per element are those of the scalar loop, so results are bit-identical to it. y may be one of
// the inputs: each pack is read before it is written, by the same thread.
#pragma once
#include <cstdint>

#include "cuda/context.h"

namespace layerwise::cuda::pointwise {

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// The elements of thread t of `threads`: packs t, t + threads, ... then the scalar tail (host and
// device, so the split can be checked on a machine without a GPU).
template <int V, int kArity, typename T, typename F>
__host__ __device__ __forceinline__ void map_thread(int64_t t, int64_t threads, int64_t n, T* y, const T* a, const T* b,
                                           const F& f) {
  using P = Pack<T, V>;
  const int64_t packs = n / V;
  for (int64_t p = t; p < packs; p += threads) {
    const P pa = reinterpret_cast<const P*>(a)[p];
    P pb;
    if constexpr (kArity == 2) pb = reinterpret_cast<const P*>(b)[p];
    P py;
    for (int k = 0; k < V; k++) {  // a constant trip count: nvcc unrolls it
      if constexpr (kArity == 2) {
        py.v[k] = f(pa.v[k], pb.v[k]);
      } else {
        py.v[k] = f(pa.v[k]);
      }
    }
    reinterpret_cast<P*>(y)[p] = py;
  }
  for (int64_t i = packs * V + t; i < n; i += threads) {
    if constexpr (kArity == 2) {
      y[i] = f(a[i], b[i]);
    } else {
      y[i] = f(a[i]);
    }
  }
}

template <int V, int kArity, typename T, typename F>
__global__ void __launch_bounds__(kThreads) map_kernel(int64_t n, T* y, const T* a, const T* b, F f) {
  map_thread<V, kArity>(blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x,
                        static_cast<int64_t>(blockDim.x) * gridDim.x, n, y, a, b, f);
}

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// y[i] = f(a[i]) (b == nullptr) or f(a[i], b[i]) for i in [0, n).
template <int kArity, typename T, typename F>
Status map(Context& ctx, const char* op, int64_t n, T* y, const T* a, const T* b, F f) {
  static_assert(kArity == 1 || kArity == 2, "unary or binary");
  LW_STATUS_TRY(check_context(ctx, op));
  if (n <= 0) return Status::Ok();
  constexpr int kPack = static_cast<int>(16 / sizeof(T));
  if (aligned16(y) && aligned16(a) && (kArity == 1 || aligned16(b))) {
    map_kernel<kPack, kArity><<<grid_for(ctx, (n + kPack - 1) / kPack), kThreads, 0, ctx.stream>>>(n, y, a, b, f);
  } else {
    map_kernel<1, kArity><<<grid_for(ctx, n), kThreads, 0, ctx.stream>>>(n, y, a, b, f);
  }
  return check_launch(ctx, op);
}

template <typename T, typename F>
Status map1(Context& ctx, const char* op, int64_t n, T* y, const T* x, F f) {
  return map<1>(ctx, op, n, y, x, static_cast<const T*>(nullptr), f);
}
template <typename T, typename F>
Status map2(Context& ctx, const char* op, int64_t n, T* y, const T* a, const T* b, F f) {
  return map<2>(ctx, op, n, y, a, b, f);
}

}  // namespace layerwise::cuda::pointwise
