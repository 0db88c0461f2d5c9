// The CUDA backend's Context and the helpers every family file (native/cuda/<family>.cu) uses:
// error conversion (CUDA, cuBLAS, cuDNN statuses -> Status naming the op), the caching allocator's
// scratch interface, and grid-stride launches of the __host__ __device__ functors that
// native/shared/ holds for both backends.
//
// Execution model: every kernel is enqueued on ctx.stream and returns without waiting; only
// copy_to_host and device_synchronize wait. ctx.copy_stream carries host-to-device copies of the
// next batch from pinned staging buffers; the compute stream waits on an event recorded after
// each such copy, and each copy waits only for the compute work that used its destination's memory
// (allocator_pool.h, "Copy ordering"), so ordering holds without a host wait.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <string>

#include "layerwise/kernels.h"

namespace layerwise::cuda {

struct Allocator;  // allocator.cu: the caching allocator (size classes, stream-ordered reuse)
struct ConvPlanCache;  // conv2d.cu: cuDNN algorithms chosen once per shape, dtype and layout
struct MatmulPlanCache;  // matmul.cu: cuBLASLt layouts and heuristics per shape and dtype

struct Context {
  int device = 0;
  cudaDeviceProp props{};
  cudaStream_t stream = nullptr;       // compute stream: every kernel runs here
  cudaStream_t copy_stream = nullptr;  // host-to-device batch copies (copy.cu)
  cublasLtHandle_t cublaslt = nullptr;
  cudnnHandle_t cudnn = nullptr;
  bool allow_tf32 = true;              // float32 GEMMs and convolutions may use TF32 (--no-tf32 clears it)
  Allocator* allocator = nullptr;
  ConvPlanCache* conv_plans = nullptr;
  MatmulPlanCache* matmul_plans = nullptr;
  // A sticky CUDA error (illegal address, launch failure...) poisons the context: every later
  // kernel returns it at once with this message, so training stops with the first cause.
  bool poisoned = false;
  char poison_message[256] = {0};
  // Advanced by check_context and cuda_status, which every kernel calls before or around what it
  // enqueues: a block whose allocation saw the same value has not been handed to any kernel since
  // (allocator_pool.h, "Copy ordering"). A kernel must call one of them before returning.
  uint64_t work_serial = 0;
};

// The plan caches are created by their family files on first use; the context's destruction
// releases them with these (each is a no-op on a null cache and leaves the pointer null).
void destroy_conv_plans(Context& ctx);    // conv2d_plan.cu
void destroy_matmul_plans(Context& ctx);  // matmul_plan.cu

// ---- errors ----
// kOk for cudaSuccess; cudaErrorMemoryAllocation becomes kOutOfMemory; sticky errors poison ctx.
Status cuda_status(Context& ctx, const char* op, cudaError_t err, const char* what = "");
Status cublas_status(const char* op, cublasStatus_t st, const char* what = "");
Status cudnn_status(const char* op, cudnnStatus_t st, const char* what = "");
// After a launch: cudaGetLastError() turned into a Status (poisoned context checked first).
Status check_launch(Context& ctx, const char* op);
// Status to return at the start of every kernel when the context is poisoned (kOk otherwise).
Status check_context(Context& ctx, const char* op);

#define LW_CUDA_TRY(ctx, op, expr)                                   \
  do {                                                               \
    ::layerwise::Status lw_st_ = ::layerwise::cuda::cuda_status((ctx), (op), (expr), #expr); \
    if (!lw_st_.ok()) return lw_st_;                                 \
  } while (0)
#define LW_CUBLAS_TRY(op, expr)                                      \
  do {                                                               \
    ::layerwise::Status lw_st_ = ::layerwise::cuda::cublas_status((op), (expr), #expr); \
    if (!lw_st_.ok()) return lw_st_;                                 \
  } while (0)
#define LW_CUDNN_TRY(op, expr)                                       \
  do {                                                               \
    ::layerwise::Status lw_st_ = ::layerwise::cuda::cudnn_status((op), (expr), #expr); \
    if (!lw_st_.ok()) return lw_st_;                                 \
  } while (0)
#define LW_STATUS_TRY(expr)                \
  do {                                     \
    ::layerwise::Status lw_st_ = (expr);   \
    if (!lw_st_.ok()) return lw_st_;       \
  } while (0)

// ---- memory (allocator.cu) ----
// Device memory from the caching allocator, ordered on ctx.stream: a block freed here is reused by
// later work on the same stream without a synchronization. Out of memory: kOutOfMemory naming the
// op, the bytes asked, the bytes free on the device and the bytes the cache holds.
Status scratch_alloc(Context& ctx, const char* op, void** out, int64_t bytes);
void scratch_free(Context& ctx, void* ptr);

// ---- launches ----
constexpr int kThreads = 256;
// Blocks for a grid-stride loop over n items: enough to fill the device, never more than needed.
inline int grid_for(const Context& ctx, int64_t n, int threads = kThreads) {
  const int64_t want = (n + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(ctx.props.multiProcessorCount > 0 ? ctx.props.multiProcessorCount : 80) * 8;
  return static_cast<int>(want < 1 ? 1 : (want < cap ? want : cap));
}

// f(i) for i in [0, n): the CUDA counterpart of the CPU backend's `#pragma omp parallel for`.
template <typename F>
__global__ void grid_stride_kernel(int64_t n, F f) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    f(i);
  }
}

template <typename F>
Status launch_for(Context& ctx, const char* op, int64_t n, F f) {
  LW_STATUS_TRY(check_context(ctx, op));
  if (n <= 0) return Status::Ok();
  grid_stride_kernel<<<grid_for(ctx, n), kThreads, 0, ctx.stream>>>(n, f);
  return check_launch(ctx, op);
}

// "name=value" pairs for error messages, as the CPU backend's describe().
std::string describe(std::initializer_list<std::pair<const char*, int64_t>> values);
// Status for size arguments that must be non-negative (positive without allow_zero).
Status check_sizes(const char* op, std::initializer_list<std::pair<const char*, int64_t>> values,
                   bool allow_zero = true);

}  // namespace layerwise::cuda
