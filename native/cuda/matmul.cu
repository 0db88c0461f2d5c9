// CUDA matmul: matmul_batched and matmul_strided (kernels/matmul.h) on cuBLASLt's strided-batched
// cublasLtMatmul, with the CPU backend's semantics (native/cpu/matmul.cc, matmul_strided.cc):
// row-major operands, float32 accumulation (TF32 for float32 when ctx.allow_tf32), beta != 0
// accumulating into c, beta == 0 never reading c. The row-major-on-column-major mapping
// (C^T = B^T A^T), the compute types and the plan cache are in matmul_plan.cu. Reference: cuBLAS
// documentation, "cublasLtMatmul()" and "cuBLASLt datatypes reference".
//
// matmul_strided's two-level batch runs as one strided-batched call when the levels collapse
// (every operand's outer stride is inner times its inner stride, or outer == 1), otherwise as
// one strided-batched call per matrix of the smaller level over the larger, all sharing one plan.
// A strided batch cuBLASLt has no algorithm for runs one product at a time (gemm below).
// k == 0 (matmul_batched only; matmul_strided requires k >= 1) is an empty sum: c = beta * c.
#include <climits>
#include <utility>

#include "cuda/matmul_plan.h"

namespace layerwise::cuda {

namespace {

// c = beta * c over batch (m, n) blocks with row stride ldc; beta == 0 writes zeros without
// reading c (a NaN-filled output becomes 0, as in BLAS and the CPU backend).
template <typename T>
struct ScaleBlocks {
  T* c;
  int64_t m, n, ldc, stride_c;
  float beta;
  __device__ void operator()(int64_t idx) const {
    const int64_t per = m * n;
    const int64_t i = idx / per, r = (idx % per) / n, j = idx % n;
    T* p = c + i * stride_c + r * ldc + j;
    *p = beta == 0.0f ? from_f32<T>(0.0f) : from_f32<T>(beta * to_f32(*p));
  }
};

Status scale_blocks(Context& ctx, const char* op, DType dtype, void* c, int64_t batch, int64_t m, int64_t n,
                    int64_t ldc, int64_t stride_c, float beta) {
  if (beta == 1.0f) return check_context(ctx, op);
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, batch * m * n, ScaleBlocks<T>{static_cast<T*>(c), m, n, ldc, stride_c, beta});
  });
}

// Enqueues plan p on ctx.stream for operands at a, b, c (all already offset), with a workspace
// from the caching allocator freed after the call (stream ordered).
Status run_plan(Context& ctx, const char* op, const MatmulPlan& p, void* c, const void* a, const void* b, float alpha,
                float beta) {
  void* ws = nullptr;
  if (p.workspace > 0) LW_STATUS_TRY(scratch_alloc(ctx, op, &ws, static_cast<int64_t>(p.workspace)));
  // cuBLASLt's A is our b and its B our a (matmul_plan.cu); C and D are both c.
  const cublasStatus_t st = cublasLtMatmul(ctx.cublaslt, p.desc, &alpha, b, p.a, a, p.b, &beta, c, p.c, c, p.c,
                                           &p.algo, ws, p.workspace, ctx.stream);
  if (ws != nullptr) scratch_free(ctx, ws);
  LW_CUBLAS_TRY(op, st);
  return check_launch(ctx, op);
}

// g on its plan. Where cuBLASLt has no algorithm for the strided batch as a whole (a broadcast
// stride of 0, say), the batch runs one product at a time on the single-matrix plan; only when that
// has none either is the combination rejected. The extras are matmul_plan's further offsets.
Status gemm(Context& ctx, const char* op, const GemmDesc& g, void* c, const void* a, const void* b, int64_t a_extra,
            int64_t b_extra, int64_t c_extra, float alpha, float beta) {
  const MatmulPlan* p = nullptr;
  LW_STATUS_TRY(matmul_plan(ctx, op, g, a, b, c, a_extra, b_extra, c_extra, &p));
  if (!p->unsupported) return run_plan(ctx, op, *p, c, a, b, alpha, beta);
  if (g.batch > 1) {
    GemmDesc one = g;
    one.batch = 1;
    one.stride_a = one.stride_b = one.stride_c = 0;
    const int64_t es = dtype_size(g.dtype);
    const int64_t sa = g.stride_a * es, sb = g.stride_b * es, sc = g.stride_c * es;
    const MatmulPlan* q = nullptr;  // every matrix's offset is a multiple of its stride: part of the alignment
    LW_STATUS_TRY(matmul_plan(ctx, op, one, a, b, c, a_extra | sa, b_extra | sb, c_extra | sc, &q));
    if (!q->unsupported) {
      for (int64_t i = 0; i < g.batch; i++)
        LW_STATUS_TRY(run_plan(ctx, op, *q, static_cast<char*>(c) + i * sc, static_cast<const char*>(a) + i * sa,
                               static_cast<const char*>(b) + i * sb, alpha, beta));
      return Status::Ok();
    }
  }
  return Status::Error(StatusCode::kNotImplemented, op,
                       std::string("cuBLASLt has no algorithm for ") + dtype_name(g.dtype) + " (" +
                           describe({{"batch", g.batch}, {"m", g.m}, {"n", g.n}, {"k", g.k}, {"lda", g.lda},
                                     {"ldb", g.ldb}, {"ldc", g.ldc}, {"stride_a", g.stride_a},
                                     {"stride_b", g.stride_b}, {"stride_c", g.stride_c}, {"trans_a", g.trans_a},
                                     {"trans_b", g.trans_b}}) +
                           ")");
}

Status check_dtype(const char* op, DType dtype) {
  return dispatch_float(dtype, op, [](auto) { return Status::Ok(); });
}

}  // namespace

Status matmul_batched(Context& ctx, void* c, const void* a, const void* b, DType dtype, int64_t batch, int64_t m,
                      int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha, float beta, int64_t stride_a,
                      int64_t stride_b, int64_t stride_c) {
  const char* op = "matmul_batched";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_dtype(op, dtype));
  auto sizes = {std::pair<const char*, int64_t>{"batch", batch}, {"m", m}, {"n", n}, {"k", k},
                {"stride_a", stride_a}, {"stride_b", stride_b}, {"stride_c", stride_c}};
  LW_STATUS_TRY(check_sizes(op, sizes));
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || batch > INT_MAX)
    return Status::Error(StatusCode::kNotImplemented, op, "matrix too large for 32-bit BLAS (" + describe(sizes) + ")");
  // Outputs of different batch entries must not overlap (as on the CPU).
  if (batch > 1 && m > 0 && n > 0 && stride_c < m * n)
    return Status::Invalid(op, "stride_c must be at least m * n when batch > 1 (" + describe(sizes) + ")");
  if (batch == 0 || m == 0 || n == 0) return Status::Ok();
  if (k == 0) return scale_blocks(ctx, op, dtype, c, batch, m, n, n, stride_c, beta);
  GemmDesc g{dtype, batch, m, n, k, trans_a, trans_b, trans_a ? m : k, trans_b ? k : n, n, stride_a, stride_b, stride_c};
  if (batch == 1) g.stride_a = g.stride_b = g.stride_c = 0;  // unused: one key for every single product
  return gemm(ctx, op, g, c, a, b, 0, 0, 0, alpha, beta);
}

Status matmul_strided(Context& ctx, void* c, const void* a, const void* b, DType dtype, int64_t outer, int64_t inner,
                      int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha, float beta,
                      int64_t a_outer, int64_t a_inner, int64_t lda, int64_t b_outer, int64_t b_inner, int64_t ldb,
                      int64_t c_outer, int64_t c_inner, int64_t ldc) {
  const char* op = "matmul_strided";
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_dtype(op, dtype));
  auto sizes = {std::pair<const char*, int64_t>{"outer", outer}, {"inner", inner}, {"m", m}, {"n", n}, {"k", k},
                {"lda", lda}, {"ldb", ldb}, {"ldc", ldc}};
  LW_STATUS_TRY(check_sizes(op, sizes, false));
  LW_STATUS_TRY(check_sizes(op, {{"a_outer", a_outer}, {"a_inner", a_inner}, {"b_outer", b_outer},
                                 {"b_inner", b_inner}, {"c_outer", c_outer}, {"c_inner", c_inner}}));
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
    return Status::Error(StatusCode::kNotImplemented, op, "matrix too large for 32-bit BLAS (" + describe(sizes) + ")");
  const int64_t cols_a = trans_a ? m : k, cols_b = trans_b ? k : n;
  if (lda < cols_a || ldb < cols_b || ldc < n)
    return Status::Invalid(op, "a leading dimension is below its row length (" + describe(sizes) + ")");
  // With one matrix per level, that level's stride is never used: give it the other's value so
  // the levels collapse.
  if (inner == 1) a_inner = a_outer, b_inner = b_outer, c_inner = c_outer;
  if (outer == 1) a_outer = inner * a_inner, b_outer = inner * b_inner, c_outer = inner * c_inner;
  const bool collapse = a_outer == inner * a_inner && b_outer == inner * b_inner && c_outer == inner * c_inner;
  // Otherwise the level with more matrices is cuBLASLt's strided batch and the other the loop of
  // calls: attention passes outer = images (256), inner = heads (6), so 6 calls rather than 256.
  struct Level {
    int64_t count, a, b, c;  // matrices, then each operand's stride (elements)
  };
  Level in_batch{inner, a_inner, b_inner, c_inner}, per_call{outer, a_outer, b_outer, c_outer};
  if (!collapse && outer > inner) std::swap(in_batch, per_call);
  const int64_t batch = collapse ? outer * inner : in_batch.count, calls = collapse ? 1 : per_call.count;
  if (batch > INT_MAX)
    return Status::Error(StatusCode::kNotImplemented, op, "batch too large for cuBLASLt (" + describe(sizes) + ")");
  GemmDesc g{dtype, batch, m, n, k, trans_a, trans_b, lda, ldb, ldc, in_batch.a, in_batch.b, in_batch.c};
  if (batch == 1) g.stride_a = g.stride_b = g.stride_c = 0;
  const int64_t es = dtype_size(dtype);
  // The per-call offsets are part of the alignment the one plan must serve (one key for all calls).
  const int64_t ea = calls > 1 ? per_call.a * es : 0, eb = calls > 1 ? per_call.b * es : 0,
                ec = calls > 1 ? per_call.c * es : 0;
  for (int64_t o = 0; o < calls; o++) {
    LW_STATUS_TRY(gemm(ctx, op, g, static_cast<char*>(c) + o * per_call.c * es,
                       static_cast<const char*>(a) + o * per_call.a * es,
                       static_cast<const char*>(b) + o * per_call.b * es, ea, eb, ec, alpha, beta));
  }
  return Status::Ok();
}

}  // namespace layerwise::cuda
