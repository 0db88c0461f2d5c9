// Batched matrix multiply on the CPU: c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] through
// OpenBLAS's cblas_sgemm (row-major). Large matrices run one after another with OpenBLAS's own
// threads; a large batch of small matrices is split over the batch with OpenMP instead, each
// thread calling a single-threaded sgemm (the OpenMP build of OpenBLAS runs serially when called
// inside a parallel region). Reference: BLAS sgemm (netlib), cblas row-major convention.
//
// Dtypes: float32 runs on sgemm as above. bfloat16 runs on oneDNN's matmul primitive when built
// with it (matmul_dnnl.cc: float32 accumulation, AVX512_BF16 where available); float16, and
// bfloat16 without oneDNN or for a stride layout oneDNN rejects, is staged (stage.h): a, b and c
// are converted to float32 scratch, sgemm runs, c is rounded back (the gaps between strided
// outputs survive: the float32 round trip of a 16-bit value is exact).
#include <cblas.h>

#include <climits>
#include <new>

#include <omp.h>

#include "cpu/context.h"
#include "cpu/matmul.h"
#include "cpu/stage.h"

namespace layerwise::cpu {

namespace {

// Below this many multiply-adds per matrix, OpenBLAS's own threading does not pay off and the
// batch is the better axis to parallelize over.
constexpr int64_t kSmallGemmFlops = int64_t{1} << 20;
// With at least one matrix per thread, products up to this size (attention's q k^T and weights v:
// 197 x 197 x 64 = 2.5M in ViT-S) also run one whole product per thread: OpenBLAS splitting each
// mid-size product across the threads, one after another, ran them at 3 GFLOP/s.
constexpr int64_t kBatchParallelFlops = int64_t{1} << 26;

// c = beta * c for an (m, n) matrix with row stride n; beta == 0 writes zeros (never reads c, so a
// NaN-filled output becomes 0, as in BLAS).
void scale_matrix(float* c, int64_t count, float beta) {
  if (beta == 0.0f) {
    for (int64_t i = 0; i < count; i++) c[i] = 0.0f;
  } else if (beta != 1.0f) {
    for (int64_t i = 0; i < count; i++) c[i] *= beta;
  }
}

void sgemm_batched(float* c, const float* a, const float* b, int64_t batch, int64_t m, int64_t n,
                   int64_t k, bool trans_a, bool trans_b, float alpha, float beta, int64_t stride_a,
                   int64_t stride_b, int64_t stride_c);

}  // namespace

Status matmul_batched(Context& ctx, void* c, const void* a, const void* b, DType dtype, int64_t batch,
                      int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha,
                      float beta, int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  const char* op = "matmul_batched";
  LW_RETURN_IF_ERROR(dispatch_float(dtype, op, [](auto) { return Status::Ok(); }));
  auto sizes = {std::pair<const char*, int64_t>{"batch", batch}, {"m", m}, {"n", n}, {"k", k},
                {"stride_a", stride_a}, {"stride_b", stride_b}, {"stride_c", stride_c}};
  LW_RETURN_IF_ERROR(check_sizes(op, sizes));
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return Status::Error(StatusCode::kNotImplemented, op,
                         "matrix too large for 32-bit BLAS (" + describe(sizes) + ")");
  // Outputs of different batch entries must not overlap: the batch runs in parallel.
  if (batch > 1 && m > 0 && n > 0 && stride_c < m * n)
    return Status::Invalid(op, "stride_c must be at least m * n when batch > 1 (" + describe(sizes) + ")");
  if (batch == 0 || m == 0 || n == 0) return Status::Ok();
  if (dtype == DType::kF32) {
    sgemm_batched(static_cast<float*>(c), static_cast<const float*>(a), static_cast<const float*>(b), batch, m,
                  n, k, trans_a, trans_b, alpha, beta, stride_a, stride_b, stride_c);
    return Status::Ok();
  }
#ifdef LAYERWISE_HAVE_DNNL
  if (dtype == DType::kBF16 && k > 0) {
    bool unsupported = false;
    Status st = matmul_dnnl(op, c, a, b, dtype, batch, m, n, k, trans_a, trans_b, alpha, beta, stride_a,
                            stride_b, stride_c, &unsupported);
    if (!unsupported) return st;
  }
#endif
  const int64_t span_a = (batch - 1) * stride_a + m * k, span_b = (batch - 1) * stride_b + k * n;
  const int64_t span_c = (batch - 1) * stride_c + m * n;
  try {
    auto fa = scratch_f32(span_a), fb = scratch_f32(span_b), fc = scratch_f32(span_c);
    load_f32(fa.get(), a, dtype, span_a);
    load_f32(fb.get(), b, dtype, span_b);
    load_f32(fc.get(), c, dtype, span_c);
    sgemm_batched(fc.get(), fa.get(), fb.get(), batch, m, n, k, trans_a, trans_b, alpha, beta, stride_a,
                  stride_b, stride_c);
    store_f32(c, fc.get(), dtype, span_c);
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op,
                         std::string("out of memory staging ") + dtype_name(dtype) + " through float32 (" +
                             describe(sizes) + ")");
  }
  return Status::Ok();
}

namespace {

void sgemm_batched(float* c, const float* a, const float* b, int64_t batch, int64_t m, int64_t n,
                   int64_t k, bool trans_a, bool trans_b, float alpha, float beta, int64_t stride_a,
                   int64_t stride_b, int64_t stride_c) {
  if (k == 0) {  // an empty sum: c = beta * c
#pragma omp parallel for if (batch * m * n > 65536)
    for (int64_t i = 0; i < batch; i++) scale_matrix(c + i * stride_c, m * n, beta);
    return;
  }

  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  const int im = static_cast<int>(m), in = static_cast<int>(n), ik = static_cast<int>(k);
  const int lda = trans_a ? im : ik;  // a[i] is stored (m, k), or (k, m) when transposed
  const int ldb = trans_b ? ik : in;  // b[i] is stored (k, n), or (n, k) when transposed
  auto gemm = [&](int64_t i) {
    cblas_sgemm(CblasRowMajor, ta, tb, im, in, ik, alpha, a + i * stride_a, lda, b + i * stride_b,
                ldb, beta, c + i * stride_c, in);
  };

  const int64_t flops = m * n * k;
  if (batch > 1 && (flops < kSmallGemmFlops || (batch >= omp_get_max_threads() && flops < kBatchParallelFlops))) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < batch; i++) gemm(i);
  } else {
    for (int64_t i = 0; i < batch; i++) gemm(i);
  }
}

}  // namespace

}  // namespace layerwise::cpu
