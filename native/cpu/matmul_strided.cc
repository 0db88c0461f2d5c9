// CPU matmul_strided: products over a two-level batch of matrices addressed by strides and
// leading dimensions (attention heads read in place from (batch, tokens, heads * head_dim)), one
// cblas_sgemm each. As in matmul_batched, mid-size products with at least one per thread run one
// whole product per thread; bfloat16 and float16 are staged through float32 (the spans are
// converted whole, so elements between the blocks are written back unchanged).
#include <cblas.h>
#include <omp.h>

#include <climits>
#include <new>

#include "cpu/context.h"
#include "cpu/stage.h"

namespace layerwise::cpu {

namespace {

constexpr int64_t kSmallGemmFlops = int64_t{1} << 20;
constexpr int64_t kBatchParallelFlops = int64_t{1} << 26;

struct Strided {
  int64_t outer, inner, m, n, k;
  bool trans_a, trans_b;
  float alpha, beta;
  int64_t a_outer, a_inner, lda, b_outer, b_inner, ldb, c_outer, c_inner, ldc;
};

void sgemm_strided(float* c, const float* a, const float* b, const Strided& s) {
  const int64_t count = s.outer * s.inner;
  auto one = [&](int64_t idx) {
    const int64_t o = idx / s.inner, i = idx % s.inner;
    float* cb = c + o * s.c_outer + i * s.c_inner;
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(s.m), static_cast<int>(s.n), static_cast<int>(s.k), s.alpha,
                a + o * s.a_outer + i * s.a_inner, static_cast<int>(s.lda), b + o * s.b_outer + i * s.b_inner,
                static_cast<int>(s.ldb), s.beta, cb, static_cast<int>(s.ldc));
  };
  const int64_t flops = s.m * s.n * s.k;
  if (count > 1 && (flops < kSmallGemmFlops || (count >= omp_get_max_threads() && flops < kBatchParallelFlops))) {
#pragma omp parallel for schedule(static)
    for (int64_t idx = 0; idx < count; idx++) one(idx);
  } else {
    for (int64_t idx = 0; idx < count; idx++) one(idx);
  }
}

}  // namespace

Status matmul_strided(Context& ctx, void* c, const void* a, const void* b, DType dtype, int64_t outer,
                      int64_t inner, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha,
                      float beta, int64_t a_outer, int64_t a_inner, int64_t lda, int64_t b_outer, int64_t b_inner,
                      int64_t ldb, int64_t c_outer, int64_t c_inner, int64_t ldc) {
  const char* op = "matmul_strided";
  LW_RETURN_IF_ERROR(dispatch_float(dtype, op, [](auto) { return Status::Ok(); }));
  auto sizes = {std::pair<const char*, int64_t>{"outer", outer}, {"inner", inner}, {"m", m}, {"n", n}, {"k", k},
                {"lda", lda}, {"ldb", ldb}, {"ldc", ldc}};
  LW_RETURN_IF_ERROR(check_sizes(op, sizes, false));
  LW_RETURN_IF_ERROR(check_sizes(op, {{"a_outer", a_outer}, {"a_inner", a_inner}, {"b_outer", b_outer},
                                      {"b_inner", b_inner}, {"c_outer", c_outer}, {"c_inner", c_inner}}));
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
    return Status::Error(StatusCode::kNotImplemented, op, "matrix too large for 32-bit BLAS (" + describe(sizes) + ")");
  const int64_t rows_a = trans_a ? k : m, cols_a = trans_a ? m : k;
  const int64_t rows_b = trans_b ? n : k, cols_b = trans_b ? k : n;
  if (lda < cols_a || ldb < cols_b || ldc < n)
    return Status::Invalid(op, "a leading dimension is below its row length (" + describe(sizes) + ")");
  const Strided s{outer, inner, m, n, k, trans_a, trans_b, alpha, beta, a_outer, a_inner, lda, b_outer, b_inner, ldb,
                  c_outer, c_inner, ldc};
  if (dtype == DType::kF32) {
    sgemm_strided(static_cast<float*>(c), static_cast<const float*>(a), static_cast<const float*>(b), s);
    return Status::Ok();
  }
  const int64_t span_a = (outer - 1) * a_outer + (inner - 1) * a_inner + (rows_a - 1) * lda + cols_a;
  const int64_t span_b = (outer - 1) * b_outer + (inner - 1) * b_inner + (rows_b - 1) * ldb + cols_b;
  const int64_t span_c = (outer - 1) * c_outer + (inner - 1) * c_inner + (m - 1) * ldc + n;
  try {
    auto fa = scratch_f32(span_a), fb = scratch_f32(span_b), fc = scratch_f32(span_c);
    load_f32(fa.get(), a, dtype, span_a);
    load_f32(fb.get(), b, dtype, span_b);
    load_f32(fc.get(), c, dtype, span_c);
    sgemm_strided(fc.get(), fa.get(), fb.get(), s);
    store_f32(c, fc.get(), dtype, span_c);
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op,
                         std::string("out of memory staging ") + dtype_name(dtype) + " through float32 (" + describe(sizes) + ")");
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
