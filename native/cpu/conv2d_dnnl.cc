// Conv2d through oneDNN (built when CMake finds it: LAYERWISE_HAVE_DNNL). One primitive per
// (pass, shape), created on first use and kept in a small least-recently-used cache, so a
// training step reuses the same primitives every iteration.
//
// Types: float32 and bfloat16 (oneDNN's bf16 kernels accumulate in float32; AVX512_BF16 where
// the CPU has it). Layouts: our tensors are plain NCHW or, with channels_last, NHWC; weights OIHW.
// For NHWC the primitive is created on nhwc activations directly (oneDNN has kernels for it, as
// PyTorch's channels_last path uses) and only the weights take format `any`. For NCHW: oneDNN's fastest kernels want blocked layouts
// (nChw16c, OIhw16i16o); primitives are created with format `any` and, where the layout oneDNN
// picks differs from ours, a cached reorder converts through a workspace buffer (inputs before,
// outputs after the convolution). See the oneDNN developer guide, "Convolution" and "Memory
// Format Propagation". PyTorch's CPU convolution (ideep) works the same way.
//
// oneDNN reports failures by throwing dnnl::error; every entry point catches it and returns a
// Status. A shape without an implementation sets *unsupported so conv2d.cc can use im2col.
#ifdef LAYERWISE_HAVE_DNNL

#include <dnnl.hpp>
#include <omp.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "cpu/conv2d.h"

namespace layerwise::cpu {

namespace {

using dnnl::memory;
using tag = memory::format_tag;

using Pass = ConvPass;

// The three tensors of every pass, by role: 0 = (diff_)src, 1 = (diff_)weights, 2 = (diff_)dst.
constexpr int kRoles = 3;

struct Key {
  Pass pass;
  DType dtype;
  bool channels_last;
  int64_t dims[17];  // the shape, then the thread count the primitive was created for
  bool operator==(const Key& o) const {
    if (pass != o.pass || dtype != o.dtype || channels_last != o.channels_last) return false;
    for (int i = 0; i < 17; i++)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
};

Key make_key(Pass pass, DType dtype, bool channels_last, const ConvShape& s) {
  return Key{pass, dtype, channels_last, {s.batch, s.in_channels, s.in_h, s.in_w, s.out_channels, s.kernel_h, s.kernel_w,
                    s.out_h, s.out_w, s.stride_h, s.stride_w, s.pad_h, s.pad_w, s.dilation_h,
                    s.dilation_w, s.groups, omp_get_max_threads()}};
}

struct Entry {
  Key key;
  uint64_t last_use = 0;
  dnnl::primitive conv;
  int arg[kRoles];        // DNNL_ARG_* of each role for this pass
  bool output[kRoles];    // the role is written by the pass
  memory::desc user[kRoles];    // our plain layout
  memory::desc inner[kRoles];   // the primitive's layout
  bool reordered[kRoles];       // inner differs from user: convert through the workspace
  dnnl::primitive reorder[kRoles];  // user -> inner for inputs, inner -> user for outputs
};

// Workspace buffers, one per role, grown to the largest request and kept (64-byte aligned).
struct Workspace {
  std::unique_ptr<void, decltype(&std::free)> data{nullptr, &std::free};
  size_t bytes = 0;
  void* get(size_t need) {
    if (need > bytes) {
      data.reset(std::aligned_alloc(64, (need + 63) / 64 * 64));
      if (data == nullptr) throw std::bad_alloc();
      bytes = need;
    }
    return data.get();
  }
};

// Kernels run on the JS thread, one at a time; the mutex only guards against a second thread
// (a worker) calling in at the same time.
struct State {
  std::mutex mutex;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<Entry> cache;  // at most kCacheCapacity entries
  uint64_t clock = 0;
  Workspace workspace[kRoles];
};
constexpr size_t kCacheCapacity = 64;

State& state() {
  static State s;  // may throw dnnl::error on first use; callers catch it
  return s;
}

memory::dims dnnl_dims(std::initializer_list<int64_t> values) {
  return memory::dims(values.begin(), values.end());
}

// Builds the primitive and its reorders for one pass and shape; returns false when oneDNN has no
// implementation for it.
bool create_entry(State& st, Pass pass, DType dtype, bool channels_last, const ConvShape& s, Entry& e) {
  const bool grouped = s.groups > 1;
  const memory::dims src = dnnl_dims({s.batch, s.in_channels, s.in_h, s.in_w});
  const memory::dims dst = dnnl_dims({s.batch, s.out_channels, s.out_h, s.out_w});
  const memory::dims wei = grouped ? dnnl_dims({s.groups, s.out_per_group(), s.in_per_group(), s.kernel_h, s.kernel_w})
                                   : dnnl_dims({s.out_channels, s.in_channels, s.kernel_h, s.kernel_w});
  const memory::dims strides = dnnl_dims({s.stride_h, s.stride_w});
  const memory::dims dilates = dnnl_dims({s.dilation_h - 1, s.dilation_w - 1});  // oneDNN: 0 = dense
  const memory::dims pad_l = dnnl_dims({s.pad_h, s.pad_w});
  // Right padding is whatever makes the output size come out (it can be below pad_l: the last
  // rows or columns of the input may be unused, as in PyTorch).
  const memory::dims pad_r = dnnl_dims({(s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1 - s.in_h - s.pad_h,
                                        (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1 - s.in_w - s.pad_w});
  const auto dt = dtype == DType::kBF16 ? memory::data_type::bf16 : memory::data_type::f32;
  const tag act = channels_last ? tag::nhwc : tag::nchw;
  e.user[0] = memory::desc(src, dt, act);
  e.user[1] = memory::desc(wei, dt, grouped ? tag::goihw : tag::oihw);
  e.user[2] = memory::desc(dst, dt, act);
  const tag act_inner = channels_last ? tag::nhwc : tag::any;
  const memory::desc any_src(src, dt, act_inner), any_wei(wei, dt, tag::any), any_dst(dst, dt, act_inner);
  const auto algo = dnnl::algorithm::convolution_direct;

  dnnl::convolution_forward::desc fwd_desc(dnnl::prop_kind::forward_training, algo, any_src, any_wei,
                                           any_dst, strides, dilates, pad_l, pad_r);
  dnnl::convolution_forward::primitive_desc fwd(fwd_desc, st.engine, /*allow_empty=*/true);
  if (!fwd) return false;
  switch (pass) {
    case Pass::kForward:
      e.conv = dnnl::convolution_forward(fwd);
      e.inner[0] = fwd.src_desc(), e.inner[1] = fwd.weights_desc(), e.inner[2] = fwd.dst_desc();
      e.arg[0] = DNNL_ARG_SRC, e.arg[1] = DNNL_ARG_WEIGHTS, e.arg[2] = DNNL_ARG_DST;
      e.output[0] = false, e.output[1] = false, e.output[2] = true;
      break;
    case Pass::kBackwardInput: {
      dnnl::convolution_backward_data::desc d(algo, any_src, any_wei, any_dst, strides, dilates, pad_l, pad_r);
      dnnl::convolution_backward_data::primitive_desc pd(d, st.engine, fwd, /*allow_empty=*/true);
      if (!pd) return false;
      e.conv = dnnl::convolution_backward_data(pd);
      e.inner[0] = pd.diff_src_desc(), e.inner[1] = pd.weights_desc(), e.inner[2] = pd.diff_dst_desc();
      e.arg[0] = DNNL_ARG_DIFF_SRC, e.arg[1] = DNNL_ARG_WEIGHTS, e.arg[2] = DNNL_ARG_DIFF_DST;
      e.output[0] = true, e.output[1] = false, e.output[2] = false;
      break;
    }
    case Pass::kBackwardWeight: {
      dnnl::convolution_backward_weights::desc d(algo, any_src, any_wei, any_dst, strides, dilates, pad_l, pad_r);
      dnnl::convolution_backward_weights::primitive_desc pd(d, st.engine, fwd, /*allow_empty=*/true);
      if (!pd) return false;
      e.conv = dnnl::convolution_backward_weights(pd);
      e.inner[0] = pd.src_desc(), e.inner[1] = pd.diff_weights_desc(), e.inner[2] = pd.diff_dst_desc();
      e.arg[0] = DNNL_ARG_SRC, e.arg[1] = DNNL_ARG_DIFF_WEIGHTS, e.arg[2] = DNNL_ARG_DIFF_DST;
      e.output[0] = false, e.output[1] = true, e.output[2] = false;
      break;
    }
  }
  for (int r = 0; r < kRoles; r++) {
    e.reordered[r] = e.inner[r] != e.user[r];
    if (!e.reordered[r]) continue;
    e.reorder[r] = e.output[r] ? dnnl::reorder(dnnl::reorder::primitive_desc(st.engine, e.inner[r], st.engine, e.user[r]))
                               : dnnl::reorder(dnnl::reorder::primitive_desc(st.engine, e.user[r], st.engine, e.inner[r]));
  }
  return true;
}

// The cached entry for (pass, shape), created if needed (evicting the least recently used one);
// nullptr when oneDNN cannot run the shape.
Entry* lookup(State& st, Pass pass, DType dtype, bool channels_last, const ConvShape& s) {
  const Key key = make_key(pass, dtype, channels_last, s);
  st.clock++;
  for (Entry& e : st.cache)
    if (e.key == key) {
      e.last_use = st.clock;
      return &e;
    }
  Entry fresh;
  fresh.key = key;
  fresh.last_use = st.clock;
  try {
    if (!create_entry(st, pass, dtype, channels_last, s, fresh)) return nullptr;
  } catch (const dnnl::error& err) {
    // A shape oneDNN rejects or lacks a kernel for runs on im2col; other failures are errors.
    if (err.status == dnnl_unimplemented || err.status == dnnl_invalid_arguments) return nullptr;
    throw;
  }
  if (st.cache.size() < kCacheCapacity) {
    st.cache.push_back(std::move(fresh));
    return &st.cache.back();
  }
  Entry* oldest = &st.cache[0];
  for (Entry& e : st.cache)
    if (e.last_use < oldest->last_use) oldest = &e;
  *oldest = std::move(fresh);
  return oldest;
}

// Runs one pass on the user's buffers (ptr[role]).
Status run(Pass pass, const char* op, const ConvShape& s, DType dtype, bool channels_last,
           void* const ptr[kRoles], bool* unsupported) {
  *unsupported = false;
  try {
    State& st = state();
    std::lock_guard<std::mutex> lock(st.mutex);
    Entry* e = lookup(st, pass, dtype, channels_last, s);
    if (e == nullptr) {
      *unsupported = true;
      return Status::Ok();
    }
    std::unordered_map<int, memory> args;
    memory user[kRoles], inner[kRoles];
    for (int r = 0; r < kRoles; r++) {
      user[r] = memory(e->user[r], st.engine, ptr[r]);
      inner[r] = e->reordered[r] ? memory(e->inner[r], st.engine, st.workspace[r].get(e->inner[r].get_size()))
                                 : user[r];
      args.emplace(e->arg[r], inner[r]);
    }
    for (int r = 0; r < kRoles; r++)
      if (e->reordered[r] && !e->output[r])
        e->reorder[r].execute(st.stream, {{DNNL_ARG_FROM, user[r]}, {DNNL_ARG_TO, inner[r]}});
    e->conv.execute(st.stream, args);
    for (int r = 0; r < kRoles; r++)
      if (e->reordered[r] && e->output[r])
        e->reorder[r].execute(st.stream, {{DNNL_ARG_FROM, inner[r]}, {DNNL_ARG_TO, user[r]}});
    st.stream.wait();
    return Status::Ok();
  } catch (const dnnl::error& err) {
    return Status::Error(StatusCode::kBackendError, op,
                         std::string("oneDNN: ") + err.what() + " (status " + std::to_string(err.status) +
                             "; " + dtype_name(dtype) + (channels_last ? " NHWC, " : " NCHW, ") +
                             s.describe() + ")");
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "out of memory in oneDNN (" + s.describe() + ")");
  } catch (const std::exception& err) {
    return Status::Error(StatusCode::kBackendError, op, std::string("oneDNN: ") + err.what());
  }
}

}  // namespace

Status conv2d_dnnl(ConvPass pass, const char* op, const ConvShape& s, DType dtype, bool channels_last,
                   void* out, const void* in0, const void* in1, bool* unsupported) {
  if (dtype != DType::kF32 && dtype != DType::kBF16) {
    *unsupported = true;
    return Status::Ok();
  }
  void* a = const_cast<void*>(in0);
  void* b = const_cast<void*>(in1);
  // ptr[role]: 0 = (diff_)src, 1 = (diff_)weights, 2 = (diff_)dst.
  switch (pass) {
    case Pass::kForward: {  // (y; x, w)
      void* const ptr[kRoles] = {a, b, out};
      return run(pass, op, s, dtype, channels_last, ptr, unsupported);
    }
    case Pass::kBackwardInput: {  // (dx; dy, w)
      void* const ptr[kRoles] = {out, b, a};
      return run(pass, op, s, dtype, channels_last, ptr, unsupported);
    }
    case Pass::kBackwardWeight: {  // (dw; dy, x)
      void* const ptr[kRoles] = {b, out, a};
      return run(pass, op, s, dtype, channels_last, ptr, unsupported);
    }
  }
  return Status::Invalid(op, "unknown pass");
}

}  // namespace layerwise::cpu

#endif  // LAYERWISE_HAVE_DNNL
