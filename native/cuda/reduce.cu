// CUDA full reductions to a scalar (kernels/reduce.h): reduce_sum, reduce_abs_sum and
// reduce_sum_squares for float32, bfloat16 and float16, and accumulate_loss. As
// native/cpu/reduce.cc, every term (native/shared/reduce_math.h, the CPU's function) is added in
// double and the total times `scale` is rounded to float32 once. Two stages: up to kMaxBlocks
// blocks each reduce a grid-stride share into a double partial (scratch), then one block adds
// the partials; the block count depends only on n and every combination runs in a fixed order
// (reduce_block.h), so a result is the same on every run and device. A single block writes the
// result directly. The multi-tensor reductions are in reduce_multi.cu. No cuBLAS/cuDNN;
// reference: CUDA C++ Programming Guide, "Warp Shuffle Functions".
#include "cuda/context.h"
#include "cuda/reduce_block.h"
#include "shared/reduce_math.h"

namespace layerwise::cuda {

using shared::ReduceTerm;

namespace {

constexpr int kReduceThreads = 256;
constexpr int64_t kMaxBlocks = 1024;
constexpr int64_t kPerThreadMin = 8;  // elements a thread adds at least before blocks are added

// Block b adds elements b*blockDim + t, stepping by the grid; writes partial[b], or, with one
// block, out[0] = total * scale.
template <ReduceTerm term, typename T>
__global__ void reduce_partial_kernel(double* partial, float* out, const T* x, int64_t n, double scale) {
  double acc = 0.0;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    acc += shared::reduce_term<term>(to_f32(x[i]));
  __shared__ double smem[32];
  acc = block_reduce(acc, SumOp{}, smem);
  if (threadIdx.x != 0) return;
  if (partial == nullptr) {
    out[0] = static_cast<float>(acc * scale);
  } else {
    partial[blockIdx.x] = acc;
  }
}

// One block: out[0] = (sum of the partials) * scale.
__global__ void reduce_finish_kernel(float* out, const double* partial, int64_t count, double scale) {
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  __shared__ double smem[32];
  acc = block_reduce(acc, SumOp{}, smem);
  if (threadIdx.x == 0) out[0] = static_cast<float>(acc * scale);
}

template <ReduceTerm term>
Status reduce_scalar(Context& ctx, const char* op, float* out, const void* x, DType dtype, int64_t n, double scale) {
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_sizes(op, {{"n", n}}));
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T* xt = static_cast<const T*>(x);
    int64_t blocks = (n + kReduceThreads * kPerThreadMin - 1) / (kReduceThreads * kPerThreadMin);
    blocks = blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks);
    if (blocks == 1) {
      reduce_partial_kernel<term, T><<<1, kReduceThreads, 0, ctx.stream>>>(nullptr, out, xt, n, scale);
      return check_launch(ctx, op);
    }
    double* partial = nullptr;
    LW_STATUS_TRY(scratch_alloc(ctx, op, reinterpret_cast<void**>(&partial), blocks * static_cast<int64_t>(sizeof(double))));
    reduce_partial_kernel<term, T><<<static_cast<unsigned>(blocks), kReduceThreads, 0, ctx.stream>>>(partial, out, xt, n, scale);
    Status st = check_launch(ctx, op);
    if (st.ok()) {
      reduce_finish_kernel<<<1, kReduceThreads, 0, ctx.stream>>>(out, partial, blocks, scale);
      st = check_launch(ctx, op);
    }
    scratch_free(ctx, partial);
    return st;
  });
}

struct AccumulateLoss {
  float* sum;
  int32_t* first_bad_step;
  const float* loss;
  int32_t step;
  __device__ void operator()(int64_t) const {
    const float v = loss[0];
    sum[0] += v;
    if (!shared::finite_f32(v) && first_bad_step[0] < 0) first_bad_step[0] = step;
  }
};

}  // namespace

Status reduce_sum(Context& ctx, float* out, const void* x, DType dtype, int64_t n, double scale) {
  return reduce_scalar<ReduceTerm::kValue>(ctx, "reduce_sum", out, x, dtype, n, scale);
}

Status reduce_abs_sum(Context& ctx, float* out, const void* x, DType dtype, int64_t n, double scale) {
  return reduce_scalar<ReduceTerm::kAbs>(ctx, "reduce_abs_sum", out, x, dtype, n, scale);
}

Status reduce_sum_squares(Context& ctx, float* out, const void* x, DType dtype, int64_t n, double scale) {
  return reduce_scalar<ReduceTerm::kSquare>(ctx, "reduce_sum_squares", out, x, dtype, n, scale);
}

Status accumulate_loss(Context& ctx, float* sum, int32_t* first_bad_step, const float* loss, int64_t step) {
  return launch_for(ctx, "accumulate_loss", 1, AccumulateLoss{sum, first_bad_step, loss, static_cast<int32_t>(step)});
}

}  // namespace layerwise::cuda
