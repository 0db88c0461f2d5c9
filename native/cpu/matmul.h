// Internal interface of the CPU matmul: the oneDNN path behind matmul_batched (matmul.cc).
#pragma once
#include <cstdint>

#include "cpu/context.h"

namespace layerwise::cpu {

#ifdef LAYERWISE_HAVE_DNNL
// c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] through oneDNN's matmul primitive (bfloat16;
// float32 accumulation), for sizes matmul.cc has checked (batch, m, n, k > 0). *unsupported is set
// when oneDNN has no implementation for the combination; other failures come back as a Status.
Status matmul_dnnl(const char* op, void* c, const void* a, const void* b, DType dtype, int64_t batch,
                   int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha, float beta,
                   int64_t stride_a, int64_t stride_b, int64_t stride_c, bool* unsupported);
#endif

}  // namespace layerwise::cpu
