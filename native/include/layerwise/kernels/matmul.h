// kernels/matmul.h: the matmul kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- matmul.cc ----
// c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] for i < batch, row-major; op(a) is (m, k),
// op(b) is (k, n). stride_* are in elements between consecutive matrices; 0 broadcasts one matrix.
// a, b and c share the dtype; products are accumulated in float32 and rounded once into c.
Status matmul_batched(Context& ctx,
                      void* c,        // ((batch - 1) * stride_c + m * n) [dtype]
                      const void* a,  // ((batch - 1) * stride_a + m * k) [dtype]
                      const void* b,  // ((batch - 1) * stride_b + k * n) [dtype]
                      DType dtype, int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b, float alpha, float beta, int64_t stride_a, int64_t stride_b,
                      int64_t stride_c);

// Two-level batch with leading dimensions, for attention heads without copies: for o < outer and
// i < inner, C[o,i] = alpha * op(A[o,i]) @ op(B[o,i]) + beta * C[o,i], where X[o,i] starts at
// x + o * x_outer + i * x_inner and its stored rows are ld_x elements apart (row-major; op(A) is
// (m, k), op(B) is (k, n), C[o,i] is (m, n)). The C blocks must not overlap. m, n, k >= 1.
Status matmul_strided(Context& ctx,
                      void* c,        // ((outer - 1) * c_outer + (inner - 1) * c_inner + (m - 1) * ldc + n) [dtype]
                      const void* a,  // ((outer - 1) * a_outer + (inner - 1) * a_inner + ((trans_a ? k : m) - 1) * lda + (trans_a ? m : k)) [dtype]
                      const void* b,  // ((outer - 1) * b_outer + (inner - 1) * b_inner + ((trans_b ? n : k) - 1) * ldb + (trans_b ? k : n)) [dtype]
                      DType dtype, int64_t outer, int64_t inner, int64_t m, int64_t n, int64_t k,
                      bool trans_a, bool trans_b, float alpha, float beta, int64_t a_outer,
                      int64_t a_inner, int64_t lda, int64_t b_outer, int64_t b_inner, int64_t ldb,
                      int64_t c_outer, int64_t c_inner, int64_t ldc);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
