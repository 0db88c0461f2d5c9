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

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
