// cuDNN plans for the CUDA convolution: tensor, filter and convolution descriptors for one pass and
// shape, and the algorithms, chosen once per key and kept in ctx.conv_plans. API: cuDNN's legacy
// convolution API (cudnn_cnn.h, still in cuDNN 9): cudnnSetConvolution2dDescriptor,
// cudnnSetConvolutionGroupCount, cudnnSetConvolutionMathType, cudnnFindConvolution*AlgorithmEx,
// cudnnGetConvolution*Algorithm_v7, cudnnGetConvolution*WorkspaceSize. Reference: cuDNN API
// reference, "cudnn_cnn library" and "cudnnMathType_t".
//
// Algorithm choice, two modes (ConvPlanCache::measured, from LAYERWISE_CUDNN_BENCHMARK):
//   * measured (the default; PyTorch's torch.backends.cudnn.benchmark = True): on the first call
//     of a key, cudnnFind*AlgorithmEx times every algorithm on the call's inputs, writing into a
//     scratch output (backward passes must never touch the caller's output before the real run),
//     with a workspace of the largest size any algorithm asks for within find_workspace_limit.
//     The candidates come back fastest first. This waits for the stream once per key, and the
//     choice can differ between runs (timings) and include nondeterministic algorithms (as in
//     PyTorch without torch.backends.cudnn.deterministic). When Find fails, or leaves no
//     acceptable candidate, the key falls back to the heuristics.
//   * heuristic (LAYERWISE_CUDNN_BENCHMARK=0; PyTorch with cudnn.benchmark off): the _v7
//     heuristics, run on the host without touching the device: no synchronization, no benchmark
//     buffers, the same choice on every run.
// Of either ranking, every candidate that reports success, respects the math rule below, and
// whose workspace (asked again of cudnnGetConvolution*WorkspaceSize for the final math type) fits
// the mode's limit is kept in that order: conv2d.cu runs the first and falls back to the next
// (see conv2d_plan.h).
//
// Math types (compute type always float): bfloat16 / float16 -> CUDNN_TENSOR_OP_MATH; float32
// with ctx.allow_tf32 -> CUDNN_DEFAULT_MATH, which permits TF32 tensor cores on A100 and later
// (CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION would also permit down-conversion to float16, beyond the
// contract's TF32 tolerance); float32 without TF32 -> CUDNN_FMA_MATH, which stays on the
// descriptor whatever the candidate reports, and candidates that report a tensor-op math type
// are skipped. Otherwise the descriptor takes the math type the chosen candidate reports (as
// cuDNN requires the algorithm and math type to match); candidates reporting
// CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION are never taken (float16 rounding of float32 or bfloat16
// data is outside the contract).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "cuda/conv2d_plan.h"

namespace layerwise::cuda {

std::string ConvShape::describe() const {
  return cuda::describe({{"batch", batch}, {"in_channels", in_channels}, {"in_h", in_h}, {"in_w", in_w},
                         {"out_channels", out_channels}, {"kernel_h", kernel_h}, {"kernel_w", kernel_w},
                         {"out_h", out_h}, {"out_w", out_w}, {"stride_h", stride_h}, {"stride_w", stride_w},
                         {"pad_h", pad_h}, {"pad_w", pad_w}, {"dilation_h", dilation_h},
                         {"dilation_w", dilation_w}, {"groups", groups}});
}

namespace {

constexpr size_t kMaxWorkspace = size_t{512} << 20;  // heuristic mode
constexpr size_t kMaxPlans = 4096;

// Measured mode: the workspace limit is the device's free memory less a margin (1/16 of the
// device, at least 256 MiB, for the allocations the step still has to make), capped at 1 GiB.
// PyTorch offers Find the largest workspace any algorithm asks for within the free memory, with no
// cap; the cap bounds what the chosen algorithm then takes at every call (a peak on top of the
// activations), and the algorithms that want more than 1 GiB (FFT variants) are rarely the
// fastest on tensor cores.
constexpr size_t kMaxFindWorkspace = size_t{1} << 30;

size_t find_workspace_limit() {
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  const size_t margin = std::max(size_t{256} << 20, total_bytes / 16);
  return free_bytes > margin ? std::min(kMaxFindWorkspace, free_bytes - margin) : 0;
}

bool measured_from_env() {
  const char* v = std::getenv("LAYERWISE_CUDNN_BENCHMARK");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

cudnnDataType_t cudnn_type(DType dtype) {
  switch (dtype) {
    case DType::kBF16: return CUDNN_DATA_BFLOAT16;
    case DType::kF16: return CUDNN_DATA_HALF;
    default: return CUDNN_DATA_FLOAT;
  }
}

void release(ConvPlan& p) {
  if (p.x != nullptr) cudnnDestroyTensorDescriptor(p.x);
  if (p.y != nullptr) cudnnDestroyTensorDescriptor(p.y);
  if (p.w != nullptr) cudnnDestroyFilterDescriptor(p.w);
  if (p.conv != nullptr) cudnnDestroyConvolutionDescriptor(p.conv);
  p = ConvPlan{};
}

int i32(int64_t v) { return static_cast<int>(v); }  // conv2d.cu has checked every size fits

bool tensor_op(cudnnMathType_t m) { return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION; }

// The workspace bytes of algorithm `algo` for the plan's descriptors, by pass.
cudnnStatus_t workspace_size(Context& ctx, ConvPass pass, const ConvPlan& p, int algo, size_t* bytes) {
  switch (pass) {
    case ConvPass::kForward:
      return cudnnGetConvolutionForwardWorkspaceSize(ctx.cudnn, p.x, p.w, p.conv, p.y,
                                                     static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
    case ConvPass::kBackwardInput:
      return cudnnGetConvolutionBackwardDataWorkspaceSize(ctx.cudnn, p.w, p.y, p.conv, p.x,
                                                          static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
    case ConvPass::kBackwardWeight:
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(
          ctx.cudnn, p.x, p.y, p.conv, p.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
  }
  return CUDNN_STATUS_BAD_PARAM;
}

// The acceptable candidates of a ranking, in order, into p.algos (see the top of the file); the
// descriptor is left with the first one's math type, or with `math` when none is acceptable.
template <typename Perf>
Status collect(Context& ctx, const char* op, ConvPass pass, ConvPlan& p, cudnnMathType_t math, const Perf* perf,
               int returned, size_t max_workspace) {
  for (int i = 0; i < returned; i++) {
    const Perf& c = perf[i];
    if (c.status != CUDNN_STATUS_SUCCESS) continue;
    if (math == CUDNN_FMA_MATH && tensor_op(c.mathType)) continue;
    if (c.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;  // may round to float16
    const cudnnMathType_t use = math == CUDNN_FMA_MATH ? math : c.mathType;
    LW_CUDNN_TRY(op, cudnnSetConvolutionMathType(p.conv, use));
    size_t bytes = 0;
    if (workspace_size(ctx, pass, p, static_cast<int>(c.algo), &bytes) != CUDNN_STATUS_SUCCESS) continue;
    if (bytes > max_workspace) continue;
    p.algos.push_back(ConvAlgo{static_cast<int>(c.algo), use, bytes});
  }
  p.math = p.algos.empty() ? math : p.algos[0].math;
  LW_CUDNN_TRY(op, cudnnSetConvolutionMathType(p.conv, p.math));
  return Status::Ok();
}

template <typename Perf>
Status pick(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, ConvPlan& p, cudnnMathType_t math,
            const std::vector<Perf>& perf, int returned) {
  LW_STATUS_TRY(collect(ctx, op, pass, p, math, perf.data(), returned, kMaxWorkspace));
  if (p.algos.empty())
    return Status::Error(StatusCode::kNotImplemented, op,
                         "cuDNN offers no algorithm for this convolution within " +
                             std::to_string(kMaxWorkspace >> 20) + " MiB of workspace (" + s.describe() + ")");
  return Status::Ok();
}

Status choose_algo(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, ConvPlan& p,
                   cudnnMathType_t math) {
  int count = 0, returned = 0;
  switch (pass) {
    case ConvPass::kForward: {
      LW_CUDNN_TRY(op, cudnnGetConvolutionForwardAlgorithmMaxCount(ctx.cudnn, &count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(count > 0 ? count : 1));
      LW_CUDNN_TRY(op, cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, p.x, p.w, p.conv, p.y, count, &returned,
                                                              perf.data()));
      return pick(ctx, op, pass, s, p, math, perf, returned);
    }
    case ConvPass::kBackwardInput: {
      LW_CUDNN_TRY(op, cudnnGetConvolutionBackwardDataAlgorithmMaxCount(ctx.cudnn, &count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(count > 0 ? count : 1));
      LW_CUDNN_TRY(op, cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.cudnn, p.w, p.y, p.conv, p.x, count,
                                                                   &returned, perf.data()));
      return pick(ctx, op, pass, s, p, math, perf, returned);
    }
    case ConvPass::kBackwardWeight: {
      LW_CUDNN_TRY(op, cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(ctx.cudnn, &count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(count > 0 ? count : 1));
      LW_CUDNN_TRY(op, cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.cudnn, p.x, p.y, p.conv, p.w, count,
                                                                     &returned, perf.data()));
      return pick(ctx, op, pass, s, p, math, perf, returned);
    }
  }
  return Status::Invalid(op, "unknown convolution pass");
}

int algo_count(Context& ctx, ConvPass pass) {
  int count = 0;
  const cudnnStatus_t st = pass == ConvPass::kForward ? cudnnGetConvolutionForwardAlgorithmMaxCount(ctx.cudnn, &count)
                           : pass == ConvPass::kBackwardInput
                               ? cudnnGetConvolutionBackwardDataAlgorithmMaxCount(ctx.cudnn, &count)
                               : cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(ctx.cudnn, &count);
  return st == CUDNN_STATUS_SUCCESS ? count : 0;
}

// cudnnFind*AlgorithmEx for one pass (chosen by the perf type), into `count` perf entries.
cudnnStatus_t find_pass(Context& ctx, const ConvPlan& p, const void* x, const void* w, void* y, int count,
                        int* returned, cudnnConvolutionFwdAlgoPerf_t* perf, void* ws, size_t ws_bytes) {
  return cudnnFindConvolutionForwardAlgorithmEx(ctx.cudnn, p.x, x, p.w, w, p.conv, p.y, y, count, returned, perf, ws,
                                                ws_bytes);
}

cudnnStatus_t find_pass(Context& ctx, const ConvPlan& p, const void* dy, const void* w, void* dx, int count,
                        int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf, void* ws, size_t ws_bytes) {
  return cudnnFindConvolutionBackwardDataAlgorithmEx(ctx.cudnn, p.w, w, p.y, dy, p.conv, p.x, dx, count, returned,
                                                     perf, ws, ws_bytes);
}

cudnnStatus_t find_pass(Context& ctx, const ConvPlan& p, const void* dy, const void* x, void* dw, int count,
                        int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf, void* ws, size_t ws_bytes) {
  return cudnnFindConvolutionBackwardFilterAlgorithmEx(ctx.cudnn, p.x, x, p.y, dy, p.conv, p.w, dw, count, returned,
                                                       perf, ws, ws_bytes);
}

// The measured choice (see the top of the file) into p.algos, fastest first. p.algos stays empty,
// with the status kOk, wherever the heuristics should choose instead: a scratch buffer that cannot
// be allocated, a failing Find, no acceptable candidate. Errors are returned only for a poisoned
// context or a descriptor call that fails. Scratch is freed on every path (stream ordered; Find
// has waited for its work anyway).
template <typename Perf>
Status find_algos(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, DType dtype, ConvPlan& p,
                  cudnnMathType_t math, const void* in0, const void* in1) {
  const int count = algo_count(ctx, pass);
  if (count <= 0) return Status::Ok();
  const int64_t out_numel = pass == ConvPass::kForward ? s.batch * s.out_channels * s.out_plane()
                            : pass == ConvPass::kBackwardInput ? s.batch * s.in_channels * s.in_plane()
                                                               : s.out_channels * s.patch();
  ScratchBlock out(ctx), ws(ctx);
  if (!scratch_alloc(ctx, op, &out.ptr, out_numel * dtype_size(dtype)).ok()) return check_context(ctx, op);
  // The largest workspace any algorithm asks for (at the descriptor's math type) within the limit.
  const size_t limit = find_workspace_limit();
  size_t ws_bytes = 0;
  for (int algo = 0; algo < count; algo++) {
    size_t bytes = 0;
    if (workspace_size(ctx, pass, p, algo, &bytes) == CUDNN_STATUS_SUCCESS && bytes <= limit)
      ws_bytes = std::max(ws_bytes, bytes);
  }
  if (ws_bytes > 0 && !scratch_alloc(ctx, op, &ws.ptr, static_cast<int64_t>(ws_bytes)).ok()) {
    LW_STATUS_TRY(check_context(ctx, op));
    ws_bytes = 0;  // time the algorithms that need no workspace
  }
  LW_CUDNN_TRY(op, cudnnSetStream(ctx.cudnn, ctx.stream));
  std::vector<Perf> perf(static_cast<size_t>(count));
  int returned = 0;
  const cudnnStatus_t st = find_pass(ctx, p, in0, in1, out.ptr, count, &returned, perf.data(), ws.ptr, ws_bytes);
  // Find launches every algorithm: a sticky error poisons the context, a refused launch is cleared.
  Status launch = check_launch(ctx, op);
  if (ctx.poisoned) return launch;
  if (st != CUDNN_STATUS_SUCCESS) return Status::Ok();
  return collect(ctx, op, pass, p, math, perf.data(), std::min(returned, count), limit);
}

// Descriptors for s (NCHW or NHWC activations and filter), then the algorithm. p is released by
// the caller on failure.
Status build(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, DType dtype, bool channels_last,
             bool measured, const void* in0, const void* in1, ConvPlan& p) {
  const cudnnDataType_t t = cudnn_type(dtype);
  const cudnnTensorFormat_t fmt = channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  LW_CUDNN_TRY(op, cudnnCreateTensorDescriptor(&p.x));
  LW_CUDNN_TRY(op, cudnnCreateTensorDescriptor(&p.y));
  LW_CUDNN_TRY(op, cudnnCreateFilterDescriptor(&p.w));
  LW_CUDNN_TRY(op, cudnnCreateConvolutionDescriptor(&p.conv));
  LW_CUDNN_TRY(op, cudnnSetTensor4dDescriptor(p.x, fmt, t, i32(s.batch), i32(s.in_channels), i32(s.in_h),
                                              i32(s.in_w)));
  LW_CUDNN_TRY(op, cudnnSetTensor4dDescriptor(p.y, fmt, t, i32(s.batch), i32(s.out_channels), i32(s.out_h),
                                              i32(s.out_w)));
  LW_CUDNN_TRY(op, cudnnSetFilter4dDescriptor(p.w, t, fmt, i32(s.out_channels), i32(s.in_per_group()),
                                              i32(s.kernel_h), i32(s.kernel_w)));
  LW_CUDNN_TRY(op, cudnnSetConvolution2dDescriptor(p.conv, i32(s.pad_h), i32(s.pad_w), i32(s.stride_h),
                                                   i32(s.stride_w), i32(s.dilation_h), i32(s.dilation_w),
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  LW_CUDNN_TRY(op, cudnnSetConvolutionGroupCount(p.conv, i32(s.groups)));
  const cudnnMathType_t math = dtype != DType::kF32 ? CUDNN_TENSOR_OP_MATH
                               : ctx.allow_tf32      ? CUDNN_DEFAULT_MATH
                                                     : CUDNN_FMA_MATH;
  LW_CUDNN_TRY(op, cudnnSetConvolutionMathType(p.conv, math));
  if (measured) {
    switch (pass) {
      case ConvPass::kForward:
        LW_STATUS_TRY(find_algos<cudnnConvolutionFwdAlgoPerf_t>(ctx, op, pass, s, dtype, p, math, in0, in1));
        break;
      case ConvPass::kBackwardInput:
        LW_STATUS_TRY(find_algos<cudnnConvolutionBwdDataAlgoPerf_t>(ctx, op, pass, s, dtype, p, math, in0, in1));
        break;
      case ConvPass::kBackwardWeight:
        LW_STATUS_TRY(find_algos<cudnnConvolutionBwdFilterAlgoPerf_t>(ctx, op, pass, s, dtype, p, math, in0, in1));
        break;
    }
    if (!p.algos.empty()) return Status::Ok();
  }
  return choose_algo(ctx, op, pass, s, p, math);
}

}  // namespace

Status conv_plan(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, DType dtype, bool channels_last,
                 const void* in0, const void* in1, ConvPlan** out) {
  if (ctx.conv_plans == nullptr) {
    ctx.conv_plans = new (std::nothrow) ConvPlanCache();
    if (ctx.conv_plans == nullptr) return Status::Error(StatusCode::kOutOfMemory, op, "no host memory for the plan cache");
    ctx.conv_plans->measured = measured_from_env();
  }
  const bool measured = ctx.conv_plans->measured;
  const ConvKey key{static_cast<int64_t>(pass), static_cast<int64_t>(dtype), channels_last,
                    dtype == DType::kF32 && ctx.allow_tf32, measured, s.batch, s.in_channels, s.in_h, s.in_w,
                    s.out_channels, s.kernel_h, s.kernel_w, s.out_h, s.out_w, s.stride_h, s.stride_w, s.pad_h,
                    s.pad_w, s.dilation_h, s.dilation_w, s.groups};
  auto& plans = ctx.conv_plans->plans;
  auto it = plans.find(key);
  if (it != plans.end()) {
    *out = &it->second;
    return Status::Ok();
  }
  ConvPlan p;
  Status st = build(ctx, op, pass, s, dtype, channels_last, measured, in0, in1, p);
  if (!st.ok()) {
    release(p);
    return st;
  }
  if (plans.size() >= kMaxPlans) {
    for (auto& kv : plans) release(kv.second);
    plans.clear();
  }
  *out = &plans.emplace(key, p).first->second;
  return Status::Ok();
}

void destroy_conv_plans(Context& ctx) {
  if (ctx.conv_plans == nullptr) return;
  for (auto& kv : ctx.conv_plans->plans) release(kv.second);
  delete ctx.conv_plans;
  ctx.conv_plans = nullptr;
}

}  // namespace layerwise::cuda
