// matmul_batched through oneDNN's matmul primitive (built with LAYERWISE_HAVE_DNNL): the
// bfloat16 path. Our row-major (possibly transposed, strided or broadcast) matrices are described
// to oneDNN as 3-D plain memory with explicit strides, so nothing is copied: op(a) is (batch, m, k)
// with strides (stride_a, k, 1), or (stride_a, 1, m) when transposed; a broadcast operand
// (stride 0) is a batch of 1. alpha is the primitive's output scale and beta a sum post-op
// (absent when beta == 0, so c is never read). One primitive per (sizes, strides, flags, alpha,
// beta, dtype, threads), kept in a small least-recently-used cache as conv2d_dnnl.cc does.
// See the oneDNN developer guide, "Matrix Multiplication" and "Primitive Attributes: Post-ops".
#ifdef LAYERWISE_HAVE_DNNL

#include <dnnl.hpp>
#include <omp.h>

#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "cpu/matmul.h"

namespace layerwise::cpu {

namespace {

using dnnl::memory;

struct Key {
  int64_t v[12];  // dtype, batch, m, n, k, trans bits, stride_a, stride_b, stride_c, alpha, beta, threads
  bool operator==(const Key& o) const { return std::memcmp(v, o.v, sizeof v) == 0; }
};

struct Entry {
  Key key;
  uint64_t last_use = 0;
  dnnl::matmul prim;
  memory::desc a, b, c;
};

struct State {
  std::mutex mutex;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<Entry> cache;
  uint64_t clock = 0;
};
constexpr size_t kCacheCapacity = 64;

State& state() {
  static State s;  // may throw dnnl::error on first use; callers catch it
  return s;
}

int64_t float_key(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// A (batch, rows, cols) operand stored row-major as (rows, cols), or as (cols, rows) when
// transposed, `stride` elements apart (a batch of 1 when stride is 0).
memory::desc operand(memory::data_type dt, int64_t batch, int64_t rows, int64_t cols, bool trans,
                     int64_t stride) {
  const int64_t b = stride == 0 ? 1 : batch;
  const int64_t bs = stride == 0 || b == 1 ? rows * cols : stride;
  return memory::desc({b, rows, cols}, dt, trans ? memory::dims{bs, 1, rows} : memory::dims{bs, cols, 1});
}

}  // namespace

Status matmul_dnnl(const char* op, void* c, const void* a, const void* b, DType dtype, int64_t batch,
                   int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha, float beta,
                   int64_t stride_a, int64_t stride_b, int64_t stride_c, bool* unsupported) {
  *unsupported = false;
  if (dtype != DType::kBF16 && dtype != DType::kF32) {
    *unsupported = true;
    return Status::Ok();
  }
  const Key key{{static_cast<int64_t>(dtype), batch, m, n, k, (trans_a ? 1 : 0) + (trans_b ? 2 : 0), stride_a,
                 stride_b, stride_c, float_key(alpha), float_key(beta), omp_get_max_threads()}};
  auto shape = [&] {
    return std::string(dtype_name(dtype)) + " batch=" + std::to_string(batch) + ", m=" + std::to_string(m) +
           ", n=" + std::to_string(n) + ", k=" + std::to_string(k) + ", trans_a=" + std::to_string(trans_a) +
           ", trans_b=" + std::to_string(trans_b) + ", strides=" + std::to_string(stride_a) + "," +
           std::to_string(stride_b) + "," + std::to_string(stride_c);
  };
  try {
    State& st = state();
    std::lock_guard<std::mutex> lock(st.mutex);
    st.clock++;
    Entry* e = nullptr;
    for (Entry& x : st.cache)
      if (x.key == key) e = &x;
    if (e == nullptr) {
      Entry fresh;
      fresh.key = key;
      const auto dt = dtype == DType::kBF16 ? memory::data_type::bf16 : memory::data_type::f32;
      fresh.a = operand(dt, batch, m, k, trans_a, stride_a);
      fresh.b = operand(dt, batch, k, n, trans_b, stride_b);
      fresh.c = memory::desc({batch, m, n}, dt, memory::dims{batch == 1 ? m * n : stride_c, n, 1});
      dnnl::primitive_attr attr;
      if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
      if (beta != 0.0f) {
        dnnl::post_ops po;
        po.append_sum(beta);
        attr.set_post_ops(po);
      }
      dnnl::matmul::desc d(fresh.a, fresh.b, fresh.c);
      dnnl::matmul::primitive_desc pd;
      try {
        pd = dnnl::matmul::primitive_desc(d, attr, st.engine, /*allow_empty=*/true);
      } catch (const dnnl::error& err) {
        if (err.status != dnnl_unimplemented && err.status != dnnl_invalid_arguments) throw;
      }
      if (!pd) {
        *unsupported = true;
        return Status::Ok();
      }
      fresh.prim = dnnl::matmul(pd);
      if (st.cache.size() < kCacheCapacity) {
        st.cache.push_back(std::move(fresh));
        e = &st.cache.back();
      } else {
        e = &st.cache[0];
        for (Entry& x : st.cache)
          if (x.last_use < e->last_use) e = &x;
        *e = std::move(fresh);
      }
    }
    e->last_use = st.clock;
    memory ma(e->a, st.engine, const_cast<void*>(a)), mb(e->b, st.engine, const_cast<void*>(b)),
        mc(e->c, st.engine, c);
    e->prim.execute(st.stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    st.stream.wait();
    return Status::Ok();
  } catch (const dnnl::error& err) {
    return Status::Error(StatusCode::kBackendError, op,
                         std::string("oneDNN: ") + err.what() + " (status " + std::to_string(err.status) + "; " +
                             shape() + ")");
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "out of memory in oneDNN (" + shape() + ")");
  } catch (const std::exception& err) {
    return Status::Error(StatusCode::kBackendError, op, std::string("oneDNN: ") + err.what());
  }
}

}  // namespace layerwise::cpu

#endif  // LAYERWISE_HAVE_DNNL
