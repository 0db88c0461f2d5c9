// Internal interface of the CUDA matmul (matmul.cu, matmul_plan.cu): one strided-batched GEMM in
// the contract's row-major terms, and the cache of cuBLASLt plans (descriptors + the heuristic's
// algorithm) that ctx.matmul_plans points to, keyed by everything the heuristic depends on.
#pragma once
#include <array>
#include <cstdint>
#include <unordered_map>

#include "cuda/context.h"

namespace layerwise::cuda {

// c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] for i < batch, row-major: op(a) (m, k), op(b)
// (k, n), stored rows ld_x elements apart, matrix i at x + i * stride_x. All sizes checked > 0
// and within cuBLASLt's 32-bit limits by the caller.
struct GemmDesc {
  DType dtype;
  int64_t batch, m, n, k;
  bool trans_a, trans_b;
  int64_t lda, ldb, ldc, stride_a, stride_b, stride_c;
};

// One cached plan: the cuBLASLt descriptors of a GemmDesc (in column-major terms, see matmul.cu)
// and the algorithm the heuristic picked, with the workspace it needs.
struct MatmulPlan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;  // cuBLASLt's A, B, C (= D)
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
  bool unsupported = false;  // the heuristic found no algorithm (remembered: it is not asked again)
};

// dtype, m, n, k, trans_a, trans_b, batch, lda, ldb, ldc, stride_a, stride_b, stride_c, the
// alignment classes of a, b, c (bytes, see matmul_plan.cu) and the TF32 switch.
using MatmulKey = std::array<int64_t, 17>;

struct MatmulKeyHash {
  size_t operator()(const MatmulKey& key) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the fields
    for (int64_t v : key) {
      h ^= static_cast<uint64_t>(v);
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

struct MatmulPlanCache {
  std::unordered_map<MatmulKey, MatmulPlan, MatmulKeyHash> plans;
};

// The plan for g with operands at a, b, c (their alignment is part of the key; `a_extra` etc. are
// further byte offsets the same plan must serve, e.g. matmul_strided's outer strides), creating the
// cache on first use and running the heuristic once per key. When cuBLASLt has no algorithm for
// the key, the plan comes back with `unsupported` set (and no descriptors) and the status is kOk.
Status matmul_plan(Context& ctx, const char* op, const GemmDesc& g, const void* a, const void* b, const void* c,
                   int64_t a_extra, int64_t b_extra, int64_t c_extra, const MatmulPlan** out);

// destroy_matmul_plans (context.h) releases every plan and the cache.

}  // namespace layerwise::cuda
