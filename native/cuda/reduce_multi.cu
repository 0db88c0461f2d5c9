// CUDA per-tensor reductions over many tensors in a handful of launches (the contract's
// multi_reduce_abs_sum / multi_reduce_sum_squares, kernels/reduce.h): out[t] = scale_t * sum |x_t|
// for the probe's mean |gradient|, out[t] = scale_t * sum x_t^2 for the norms of NG, LARC and LAMB.
//
// Accuracy and determinism as the CPU (native/cpu/reduce.cc): every tensor is cut into blocks of
// 32,768 elements (the CPU's kBlock); one CUDA block sums one of them in double (each thread a
// fixed strided subset, then a fixed shared-memory tree) into partial[global block]; a second
// kernel adds each tensor's block sums in order, in double, and writes float(total * scale_t).
// No atomics: repeated runs give identical bits. The block list rides in the kernel parameters
// (multi_tensor::for_each_launch, optim_multi_tensor.cuh); the partial sums live in a scratch
// buffer from the caching allocator, freed stream-ordered after the second kernel.
// Reference: CUDA C++ Programming Guide, "Function Parameters" (32,764-byte parameters) and
// apex csrc/multi_tensor_l2norm_kernel.cu (structure; the per-tensor output without atomics is ours).
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "cuda/context.h"
#include "cuda/optim_multi_tensor.cuh"

namespace layerwise::cuda {

namespace {

using multi_tensor::TensorListMeta;

constexpr int64_t kReduceChunk = 32768;
constexpr int kReduceThreads = 256;
constexpr int kMaxFinish = 1024;  // tensors per finishing launch

template <bool kSquare>
__device__ __forceinline__ double term(float v) {
  const double d = static_cast<double>(v);
  return kSquare ? d * d : fabs(d);
}

template <bool kSquare>
__global__ void __launch_bounds__(kReduceThreads)
    block_sums_kernel(const __grid_constant__ TensorListMeta<1> meta, double* partial,  // (all blocks)
                      int64_t first_block) {
  const int lt = meta.block_tensor[blockIdx.x];
  const int64_t start = static_cast<int64_t>(meta.block_chunk[blockIdx.x]) * meta.chunk;
  const int64_t rest = meta.numels[lt] - start;
  const int len = static_cast<int>(rest < meta.chunk ? rest : meta.chunk);
  const float* x = static_cast<const float*>(meta.ptrs[0][lt]) + start;  // (len)
  double s = 0.0;
  int tail = 0;
  if (reinterpret_cast<uintptr_t>(x) % 16 == 0) {
    const int n4 = len / 4;
    for (int i = threadIdx.x; i < n4; i += blockDim.x) {
      const float4 v = reinterpret_cast<const float4*>(x)[i];
      s += term<kSquare>(v.x);
      s += term<kSquare>(v.y);
      s += term<kSquare>(v.z);
      s += term<kSquare>(v.w);
    }
    tail = n4 * 4;
  }
  for (int i = tail + static_cast<int>(threadIdx.x); i < len; i += blockDim.x) s += term<kSquare>(x[i]);
  __shared__ double sums[kReduceThreads];
  sums[threadIdx.x] = s;
  __syncthreads();
  for (int width = kReduceThreads / 2; width > 0; width >>= 1) {
    if (static_cast<int>(threadIdx.x) < width) sums[threadIdx.x] += sums[threadIdx.x + width];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[first_block + blockIdx.x] = sums[0];
}

// Tensors t0 .. t0+count-1: tensor t0+k owns partial[first[k] .. first[k+1]-1].
struct FinishMeta {
  int64_t first[kMaxFinish + 1];
  double scale[kMaxFinish];
  int64_t t0;
  int32_t count;
};
static_assert(sizeof(FinishMeta) <= 32764, "kernel parameters are limited to 32,764 bytes");

__global__ void finish_kernel(const __grid_constant__ FinishMeta m, const double* partial,  // (all blocks)
                              float* out) {                                                   // (num_tensors)
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= m.count) return;
  double total = 0.0;
  for (int64_t b = m.first[k]; b < m.first[k + 1]; b++) total += partial[b];
  out[m.t0 + k] = static_cast<float>(total * m.scale[k]);
}

double zero_of(int64_t) { return 0.0; }

template <bool kSquare>
Status multi_reduce(Context& ctx, const char* op, float* out, const float* const* xs, const int64_t* numels,
                    const double* scales, int64_t num_tensors) {
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(multi_tensor::check_numels(op, numels, num_tensors));
  if (num_tensors == 0) return Status::Ok();
  std::vector<int64_t> first;
  try {
    first.resize(static_cast<size_t>(num_tensors + 1));
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "no memory for the block table of " + std::to_string(num_tensors) + " tensors");
  }
  first[0] = 0;
  for (int64_t t = 0; t < num_tensors; t++) first[t + 1] = first[t] + (numels[t] + kReduceChunk - 1) / kReduceChunk;
  const int64_t blocks = first[num_tensors];
  double* partial = nullptr;
  if (blocks > 0) {
    void* p = nullptr;
    LW_STATUS_TRY(scratch_alloc(ctx, op, &p, blocks * static_cast<int64_t>(sizeof(double))));
    partial = static_cast<double*>(p);
  }
  const void* const* lists[1] = {reinterpret_cast<const void* const*>(xs)};
  Status st = multi_tensor::for_each_launch<1>(
      lists, numels, num_tensors, kReduceChunk, zero_of, zero_of,
      [&](const TensorListMeta<1>& meta, int64_t first_block) -> Status {
        block_sums_kernel<kSquare><<<meta.num_blocks, kReduceThreads, 0, ctx.stream>>>(meta, partial, first_block);
        return check_launch(ctx, op);
      });
  for (int64_t t0 = 0; st.ok() && t0 < num_tensors; t0 += kMaxFinish) {
    FinishMeta m;
    m.t0 = t0;
    m.count = static_cast<int32_t>(num_tensors - t0 < kMaxFinish ? num_tensors - t0 : kMaxFinish);
    for (int k = 0; k <= m.count; k++) m.first[k] = first[t0 + k];
    for (int k = 0; k < m.count; k++) m.scale[k] = scales[t0 + k];
    const int threads = 128;
    finish_kernel<<<(m.count + threads - 1) / threads, threads, 0, ctx.stream>>>(m, partial, out);
    st = check_launch(ctx, op);
  }
  if (partial != nullptr) scratch_free(ctx, partial);
  return st;
}

}  // namespace

Status multi_reduce_abs_sum(Context& ctx, float* out, const float* const* xs, const int64_t* host_numels,
                            const double* host_scales, int64_t num_tensors) {
  return multi_reduce<false>(ctx, "multi_reduce_abs_sum", out, xs, host_numels, host_scales, num_tensors);
}

Status multi_reduce_sum_squares(Context& ctx, float* out, const float* const* xs, const int64_t* host_numels,
                                const double* host_scales, int64_t num_tensors) {
  return multi_reduce<true>(ctx, "multi_reduce_sum_squares", out, xs, host_numels, host_scales, num_tensors);
}

}  // namespace layerwise::cuda
