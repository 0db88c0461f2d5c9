// Warp and block reductions for the CUDA family files (activation, loss, elementwise, reduce):
// sums, maxima and counts over a warp (shuffles) or a whole block (shuffles, then the per-warp
// results combined in warp order through shared memory), and RowGroup, the "one warp or one
// block per row" iteration the row-wise kernels (softmax, losses) share. Every combination runs
// in a fixed order, so a result does not depend on scheduling (no atomics).
// Reference: CUDA C++ Programming Guide, "Warp Shuffle Functions" (__shfl_xor_sync).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace layerwise::cuda {

struct SumOp {
  template <typename V>
  __device__ __forceinline__ V operator()(V a, V b) const { return a + b; }
};
// max that skips NaN as the CPU's `m = v > m ? v : m` does (a NaN never becomes the maximum).
struct MaxOp {
  template <typename V>
  __device__ __forceinline__ V operator()(V a, V b) const { return b > a ? b : a; }
};
struct MinOp {
  template <typename V>
  __device__ __forceinline__ V operator()(V a, V b) const { return b < a ? b : a; }
};

constexpr unsigned kFullMask = 0xffffffffu;

// Every lane of the (full) warp gets op over the 32 lanes' values.
template <typename V, typename Op>
__device__ __forceinline__ V warp_reduce(V v, Op op) {
  for (int d = 16; d > 0; d >>= 1) v = op(v, __shfl_xor_sync(kFullMask, v, d));
  return v;
}

// Every thread of the block gets op over all threads' values. blockDim.x is a multiple of 32 (at
// most 1024), every thread of the block calls it, and `smem` holds 32 values of V.
template <typename V, typename Op>
__device__ __forceinline__ V block_reduce(V v, Op op, V* smem) {
  v = warp_reduce(v, op);
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  __syncthreads();  // smem may still be read by a previous call
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  V r = smem[0];
  for (int w = 1; w < warps; w++) r = op(r, smem[w]);
  return r;
}

// Rows handed to a warp (kWarp, 32 lanes per row, blockDim.x / 32 rows per block) or to a whole
// block (blockDim.x lanes per row); the grid strides over the rows. In block mode every thread of
// a block walks the same rows, so block_reduce's barriers are reached by all of them.
template <bool kWarp>
struct RowGroup {
  int64_t first;   // this group's first row
  int64_t stride;  // groups in the grid
  int lane;
  int size;
  __device__ __forceinline__ RowGroup() {
    if constexpr (kWarp) {
      const int64_t per_block = blockDim.x >> 5;
      first = static_cast<int64_t>(blockIdx.x) * per_block + (threadIdx.x >> 5);
      stride = static_cast<int64_t>(gridDim.x) * per_block;
      lane = threadIdx.x & 31;
      size = 32;
    } else {
      first = blockIdx.x;
      stride = gridDim.x;
      lane = threadIdx.x;
      size = blockDim.x;
    }
  }
  template <typename V, typename Op>
  __device__ __forceinline__ V reduce(V v, Op op, V* smem) const {
    if constexpr (kWarp) {
      return warp_reduce(v, op);
    } else {
      return block_reduce(v, op, smem);
    }
  }
};

// Rows of at most this many columns go one per warp (at most 32 values per lane); wider rows
// get a block each.
constexpr int64_t kWarpRowCols = 1024;
constexpr int kRowThreads = 256;
constexpr int64_t kMaxRowBlocks = 65535;  // the grid strides over more rows than this

// Blocks for `rows` rows in warp mode (8 rows a block) or block mode (one row a block).
inline unsigned row_blocks(int64_t rows, bool warp_mode) {
  const int64_t per_block = warp_mode ? kRowThreads / 32 : 1;
  int64_t blocks = (rows + per_block - 1) / per_block;
  if (blocks > kMaxRowBlocks) blocks = kMaxRowBlocks;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

}  // namespace layerwise::cuda
