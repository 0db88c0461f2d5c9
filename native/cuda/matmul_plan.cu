// cuBLASLt plans for the CUDA matmul: the descriptors of one row-major strided-batched GEMM
// (matmul_plan.h's GemmDesc) and the algorithm cublasLtMatmulAlgoGetHeuristic picks, built once
// per key and kept in ctx.matmul_plans. References: cuBLAS documentation, "Using the cuBLASLt API"
// (cublasLtMatmul, cublasLtMatrixLayoutAttribute_t, cublasLtMatmulPreferenceAttributes_t).
//
// Row-major contract on a column-major library. A row-major (r, s) matrix X with row stride ld
// occupies the same memory as the column-major (s, r) matrix X^T with leading dimension ld. So
//   C = op(A) op(B)  (row-major, C (m, n))   <=>   C^T = op(B)^T op(A)^T  (column-major, C^T (n, m)).
// cuBLASLt therefore computes D = opA'(A') opB'(B') with m' = n, n' = m, k' = k and:
//   A' = our b: stored row-major (k, n) [(n, k) when trans_b], i.e. column-major (n, k) [(k, n)],
//        ld = ldb. op(B)^T is (n, k): that is the stored column-major matrix itself when !trans_b
//        (opA' = N), its transpose when trans_b (opA' = T).
//   B' = our a: stored row-major (m, k) [(k, m) when trans_a], i.e. column-major (k, m) [(m, k)],
//        ld = lda; op(A)^T (k, m) gives opB' = N when !trans_a, T when trans_a.
//   C' = D' = our c: column-major (n, m), ld = ldc.
// Leading dimensions and batch strides (elements) are the same numbers in both views.
//
// Choices: compute type CUBLAS_COMPUTE_32F_FAST_TF32 for float32 when ctx.allow_tf32, else
// CUBLAS_COMPUTE_32F (float32 accumulation for bfloat16 / float16 too), scale type float32. The
// split-K reduction schemes are limited to none / compute type, so partial sums stay in float32
// and c is rounded once (the contract; OUTPUT_TYPE and INPLACE would round partial sums to the
// 16-bit output type). The heuristic sees the operands' alignment (MIN_ALIGNMENT_*_BYTES), which
// is therefore part of the key, and a 32 MiB workspace limit (what cuBLASLt suggests for Hopper);
// the workspace itself comes from scratch_alloc at each call.
#include <cstring>
#include <new>

#include "cuda/matmul_plan.h"

namespace layerwise::cuda {

namespace {

constexpr uint64_t kMaxWorkspace = uint64_t{32} << 20;
constexpr size_t kMaxPlans = 4096;  // a shape-churning caller cannot grow the cache without bound

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::kBF16: return CUDA_R_16BF;
    case DType::kF16: return CUDA_R_16F;
    default: return CUDA_R_32F;
  }
}

// The largest of 16, 8, 4, 2 bytes dividing the address and every byte offset the plan serves
// (the batch stride and any extra offset): cuBLASLt's heuristic may pick vectorized loads for it.
int64_t alignment(const void* p, int64_t stride_bytes, int64_t extra_bytes) {
  const uint64_t bits = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)) | static_cast<uint64_t>(stride_bytes) |
                        static_cast<uint64_t>(extra_bytes) | 16u;
  return static_cast<int64_t>(bits & (~bits + 1));  // lowest set bit, at most 16
}

void release(MatmulPlan& p) {
  if (p.a != nullptr) cublasLtMatrixLayoutDestroy(p.a);
  if (p.b != nullptr) cublasLtMatrixLayoutDestroy(p.b);
  if (p.c != nullptr) cublasLtMatrixLayoutDestroy(p.c);
  if (p.desc != nullptr) cublasLtMatmulDescDestroy(p.desc);
  p = MatmulPlan{};
}

// A column-major (rows, cols) layout with leading dimension ld and a strided batch.
Status make_layout(const char* op, cublasLtMatrixLayout_t* out, DType dtype, int64_t rows, int64_t cols, int64_t ld,
                   int64_t batch, int64_t stride) {
  LW_CUBLAS_TRY(op, cublasLtMatrixLayoutCreate(out, cuda_type(dtype), static_cast<uint64_t>(rows),
                                               static_cast<uint64_t>(cols), ld));
  const int32_t count = static_cast<int32_t>(batch);
  LW_CUBLAS_TRY(op, cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
  LW_CUBLAS_TRY(op, cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                                     sizeof stride));
  return Status::Ok();
}

struct PreferenceGuard {
  cublasLtMatmulPreference_t pref = nullptr;
  ~PreferenceGuard() {
    if (pref != nullptr) cublasLtMatmulPreferenceDestroy(pref);
  }
};

// Descriptors and algorithm for g (see the derivation at the top); p is released by the caller on
// failure, and comes back released with `unsupported` set when cuBLASLt has no algorithm.
Status build(Context& ctx, const char* op, const GemmDesc& g, const int64_t align[3], MatmulPlan& p) {
  const bool tf32 = g.dtype == DType::kF32 && ctx.allow_tf32;
  const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  LW_CUBLAS_TRY(op, cublasLtMatmulDescCreate(&p.desc, compute, CUDA_R_32F));
  const cublasOperation_t op_a = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt's A is our b
  const cublasOperation_t op_b = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt's B is our a
  LW_CUBLAS_TRY(op, cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a));
  LW_CUBLAS_TRY(op, cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b));
  // A' stored column-major (n, k), or (k, n) when transposed; B' (k, m), or (m, k); C' (n, m).
  LW_STATUS_TRY(make_layout(op, &p.a, g.dtype, g.trans_b ? g.k : g.n, g.trans_b ? g.n : g.k, g.ldb, g.batch,
                            g.stride_b));
  LW_STATUS_TRY(make_layout(op, &p.b, g.dtype, g.trans_a ? g.m : g.k, g.trans_a ? g.k : g.m, g.lda, g.batch,
                            g.stride_a));
  LW_STATUS_TRY(make_layout(op, &p.c, g.dtype, g.n, g.m, g.ldc, g.batch, g.stride_c));

  PreferenceGuard guard;
  LW_CUBLAS_TRY(op, cublasLtMatmulPreferenceCreate(&guard.pref));
  const uint64_t ws = kMaxWorkspace;
  LW_CUBLAS_TRY(op, cublasLtMatmulPreferenceSetAttribute(guard.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                         sizeof ws));
  const uint32_t schemes = CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
  LW_CUBLAS_TRY(op, cublasLtMatmulPreferenceSetAttribute(guard.pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK,
                                                         &schemes, sizeof schemes));
  // cuBLASLt's A is our b, its B our a, its C and D our c.
  const uint32_t al_a = static_cast<uint32_t>(align[1]), al_b = static_cast<uint32_t>(align[0]),
                 al_c = static_cast<uint32_t>(align[2]);
  LW_CUBLAS_TRY(op, cublasLtMatmulPreferenceSetAttribute(guard.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                                         &al_a, sizeof al_a));
  LW_CUBLAS_TRY(op, cublasLtMatmulPreferenceSetAttribute(guard.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                                         &al_b, sizeof al_b));
  LW_CUBLAS_TRY(op, cublasLtMatmulPreferenceSetAttribute(guard.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                                         &al_c, sizeof al_c));
  LW_CUBLAS_TRY(op, cublasLtMatmulPreferenceSetAttribute(guard.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                                         &al_c, sizeof al_c));

  cublasLtMatmulHeuristicResult_t result;
  std::memset(&result, 0, sizeof result);
  int found = 0;
  const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(ctx.cublaslt, p.desc, p.a, p.b, p.c, p.c, guard.pref, 1,
                                                           &result, &found);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED || (st == CUBLAS_STATUS_SUCCESS && found == 0)) {
    release(p);
    p.unsupported = true;
    return Status::Ok();
  }
  LW_CUBLAS_TRY(op, st);
  if (result.state != CUBLAS_STATUS_SUCCESS) LW_CUBLAS_TRY(op, result.state);
  p.algo = result.algo;
  p.workspace = result.workspaceSize;
  return Status::Ok();
}

}  // namespace

Status matmul_plan(Context& ctx, const char* op, const GemmDesc& g, const void* a, const void* b, const void* c,
                   int64_t a_extra, int64_t b_extra, int64_t c_extra, const MatmulPlan** out) {
  if (ctx.matmul_plans == nullptr) {
    ctx.matmul_plans = new (std::nothrow) MatmulPlanCache();
    if (ctx.matmul_plans == nullptr) return Status::Error(StatusCode::kOutOfMemory, op, "no host memory for the plan cache");
  }
  const int64_t es = dtype_size(g.dtype);
  const int64_t align[3] = {alignment(a, g.stride_a * es, a_extra), alignment(b, g.stride_b * es, b_extra),
                            alignment(c, g.stride_c * es, c_extra)};
  const MatmulKey key{static_cast<int64_t>(g.dtype), g.m, g.n, g.k, g.trans_a, g.trans_b, g.batch, g.lda, g.ldb,
                      g.ldc, g.stride_a, g.stride_b, g.stride_c, align[0], align[1], align[2],
                      g.dtype == DType::kF32 && ctx.allow_tf32};
  auto& plans = ctx.matmul_plans->plans;
  auto it = plans.find(key);
  if (it != plans.end()) {
    *out = &it->second;
    return Status::Ok();
  }
  MatmulPlan p;
  Status st = build(ctx, op, g, align, p);
  if (!st.ok()) {
    release(p);
    return st;
  }
  if (plans.size() >= kMaxPlans) {
    for (auto& kv : plans) release(kv.second);
    plans.clear();
  }
  auto ins = plans.emplace(key, p);
  *out = &ins.first->second;
  return Status::Ok();
}

void destroy_matmul_plans(Context& ctx) {
  if (ctx.matmul_plans == nullptr) return;
  for (auto& kv : ctx.matmul_plans->plans) release(kv.second);
  delete ctx.matmul_plans;
  ctx.matmul_plans = nullptr;
}

}  // namespace layerwise::cuda
