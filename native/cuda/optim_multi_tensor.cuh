// multi_tensor_apply for the CUDA backend (after apex's csrc/multi_tensor_apply.cuh, re-derived):
// the fused optimizer steps (optim.cu) and the per-tensor reductions (reduce_multi.cu) process a
// list of tensors in a handful of launches instead of one per tensor.
//
// The host cuts every tensor into chunks of `chunk` elements and packs, per launch, the tensors'
// pointers (kDepth lists: parameters, gradients, moments, ...), sizes, per-tensor scalars and
// indices, and for every block the (tensor, chunk) it processes, into one TensorListMeta passed BY
// VALUE as a kernel parameter. Choice: CUDA 12.1+ accepts up to 32,764 bytes of kernel parameters
// on Volta and newer (CUDA C++ Programming Guide, "Function Parameters"; __grid_constant__ keeps it
// in the parameter space), so a launch carries 192 tensors and 1,280 chunks (~22 KiB) and a
// ResNet-50 step (161 tensors, 25.6 M values: ~550 chunks of 64 Ki) is ONE launch, with no
// host-to-device copy of metadata and nothing to keep alive until the kernel has run. A longer list
// simply takes more launches; a tensor whose chunks do not fit continues in the next launch.
//
// In a block, each thread handles elements threadIdx.x, +blockDim.x, ... of the chunk; float4
// loads and stores when every pointer of the chunk is 16-byte aligned (chunk starts are multiples
// of 4 elements), scalar accesses otherwise and for the tail.
#pragma once
#include <cstdint>
#include <string>

#include "cuda/context.h"

namespace layerwise::cuda::multi_tensor {

constexpr int64_t kChunk = 65536;      // elements per block in the optimizer steps
constexpr int kApplyThreads = 512;     // threads per block
constexpr int kMaxTensors = 192;       // tensors per launch
constexpr int kMaxBlocks = 1280;       // chunks (blocks) per launch

template <int kDepth>
struct TensorListMeta {
  void* ptrs[kDepth][kMaxTensors];     // list d, local tensor lt: the tensor's first element
  int64_t numels[kMaxTensors];
  double a[kMaxTensors];               // per-tensor scalars (weight decay, alpha, scale)
  double b[kMaxTensors];               // (beta)
  int32_t index[kMaxTensors];          // the tensor's index in the whole list (lr_scales[index], out[index])
  int32_t block_tensor[kMaxBlocks];    // block -> local tensor
  int32_t block_chunk[kMaxBlocks];     // block -> chunk of that tensor
  int64_t chunk;                       // elements per chunk
  int32_t num_tensors;
  int32_t num_blocks;
};
static_assert(sizeof(TensorListMeta<4>) <= 32764, "kernel parameters are limited to 32,764 bytes");

// The numels of a multi-tensor kernel must be non-negative (the CPU backend's make_chunks message).
inline Status check_numels(const char* op, const int64_t* numels, int64_t num_tensors) {
  LW_STATUS_TRY(check_sizes(op, {{"num_tensors", num_tensors}}));
  for (int64_t t = 0; t < num_tensors; t++) {
    if (numels[t] < 0)
      return Status::Invalid(op, "numels[" + std::to_string(t) + "] is negative (" + std::to_string(numels[t]) + ")");
  }
  if (num_tensors > INT32_MAX) return Status::Invalid(op, "num_tensors=" + std::to_string(num_tensors) + " exceeds 2^31 - 1");
  return Status::Ok();
}

// Packs the tensors into TensorListMeta structs and calls launch(meta, first_block) for each
// (first_block: the number of blocks of the launches before it, i.e. the global index of the
// launch's block 0). lists[d][t] is tensor t's buffer in list d; a_of(t), b_of(t) its scalars.
// Empty tensors get no block. Returns the first failing launch's Status.
template <int kDepth, typename A, typename B, typename Launch>
Status for_each_launch(const void* const* const (&lists)[kDepth], const int64_t* numels, int64_t num_tensors,
                       int64_t chunk, A a_of, B b_of, Launch launch) {
  TensorListMeta<kDepth> meta;
  meta.chunk = chunk;
  meta.num_tensors = 0;
  meta.num_blocks = 0;
  int64_t first_block = 0;
  auto flush = [&]() -> Status {
    if (meta.num_blocks > 0) {
      LW_STATUS_TRY(launch(meta, first_block));
      first_block += meta.num_blocks;
    }
    meta.num_tensors = 0;
    meta.num_blocks = 0;
    return Status::Ok();
  };
  auto add_tensor = [&](int64_t t) {
    const int lt = meta.num_tensors++;
    for (int d = 0; d < kDepth; d++) meta.ptrs[d][lt] = const_cast<void*>(lists[d][t]);
    meta.numels[lt] = numels[t];
    meta.a[lt] = a_of(t);
    meta.b[lt] = b_of(t);
    meta.index[lt] = static_cast<int32_t>(t);
    return lt;
  };
  for (int64_t t = 0; t < num_tensors; t++) {
    if (numels[t] == 0) continue;
    if (meta.num_tensors == kMaxTensors) LW_STATUS_TRY(flush());
    int lt = add_tensor(t);
    const int64_t chunks = (numels[t] + chunk - 1) / chunk;
    for (int64_t c = 0; c < chunks; c++) {
      if (meta.num_blocks == kMaxBlocks) {
        LW_STATUS_TRY(flush());
        lt = add_tensor(t);  // the rest of this tensor continues in the next launch
      }
      meta.block_tensor[meta.num_blocks] = lt;
      meta.block_chunk[meta.num_blocks] = static_cast<int32_t>(c);
      meta.num_blocks++;
    }
  }
  return flush();
}

// The kernel: block b updates chunk block_chunk[b] of tensor block_tensor[b]. Op provides
//   bool skip() const                       (device) the whole launch does nothing (found_inf)
//   Scalars scalars(meta, lt) const         (device) the tensor's scalars, once per thread
//   bool element(const Scalars&, float (&x)[kDepth]) const
//                                           one element's values in every list, updated in place;
//                                           returns a flag (non-finite seen) when Op::kFlags
//   static constexpr bool writes(int d)     which lists are stored back
//   void raise() const                      (device, only when kFlags) called once by a block
//                                           whose threads flagged something
template <int kDepth, typename Op>
__global__ void __launch_bounds__(kApplyThreads)
    multi_tensor_kernel(const __grid_constant__ TensorListMeta<kDepth> meta, const Op op) {
  if (op.skip()) return;
  const int lt = meta.block_tensor[blockIdx.x];
  const int64_t start = static_cast<int64_t>(meta.block_chunk[blockIdx.x]) * meta.chunk;
  const int64_t rest = meta.numels[lt] - start;
  const int len = static_cast<int>(rest < meta.chunk ? rest : meta.chunk);
  const auto s = op.scalars(meta, lt);
  float* ptr[kDepth];
  bool aligned = true;
#pragma unroll
  for (int d = 0; d < kDepth; d++) {
    ptr[d] = static_cast<float*>(meta.ptrs[d][lt]) + start;
    aligned = aligned && (reinterpret_cast<uintptr_t>(ptr[d]) % 16 == 0);
  }
  bool flag = false;
  int tail = 0;
  if (aligned) {
    const int n4 = len / 4;
    for (int i = threadIdx.x; i < n4; i += blockDim.x) {
      float4 v[kDepth];
#pragma unroll
      for (int d = 0; d < kDepth; d++) v[d] = reinterpret_cast<const float4*>(ptr[d])[i];
#pragma unroll
      for (int k = 0; k < 4; k++) {
        float x[kDepth];
#pragma unroll
        for (int d = 0; d < kDepth; d++) x[d] = reinterpret_cast<const float*>(&v[d])[k];
        flag |= op.element(s, x);
#pragma unroll
        for (int d = 0; d < kDepth; d++) reinterpret_cast<float*>(&v[d])[k] = x[d];
      }
#pragma unroll
      for (int d = 0; d < kDepth; d++)
        if (Op::writes(d)) reinterpret_cast<float4*>(ptr[d])[i] = v[d];
    }
    tail = n4 * 4;
  }
  for (int i = tail + static_cast<int>(threadIdx.x); i < len; i += blockDim.x) {
    float x[kDepth];
#pragma unroll
    for (int d = 0; d < kDepth; d++) x[d] = ptr[d][i];
    flag |= op.element(s, x);
#pragma unroll
    for (int d = 0; d < kDepth; d++)
      if (Op::writes(d)) ptr[d][i] = x[d];
  }
  if constexpr (Op::kFlags) {
    if (__syncthreads_or(flag) && threadIdx.x == 0) op.raise();
  }
}

// Launches Op over the lists: for_each_launch + multi_tensor_kernel on ctx.stream.
template <int kDepth, typename Op, typename A, typename B>
Status apply(Context& ctx, const char* op_name, const void* const* const (&lists)[kDepth], const int64_t* numels,
             int64_t num_tensors, A a_of, B b_of, const Op& op) {
  static_assert(sizeof(TensorListMeta<kDepth>) + sizeof(Op) + 16 <= 32764, "the launch's parameters exceed 32,764 bytes");
  return for_each_launch<kDepth>(lists, numels, num_tensors, kChunk, a_of, b_of,
                                 [&](const TensorListMeta<kDepth>& meta, int64_t) -> Status {
                                   multi_tensor_kernel<kDepth, Op><<<meta.num_blocks, kApplyThreads, 0, ctx.stream>>>(meta, op);
                                   return check_launch(ctx, op_name);
                                 });
}

}  // namespace layerwise::cuda::multi_tensor
