// cuDNN plans for the CUDA convolution: tensor, filter and convolution descriptors for one pass and
// shape, and the algorithm, chosen once per key and kept in ctx.conv_plans. API: cuDNN's legacy
// convolution API (cudnn_cnn.h, still in cuDNN 9): cudnnSetConvolution2dDescriptor,
// cudnnSetConvolutionGroupCount, cudnnSetConvolutionMathType, cudnnGetConvolution*Algorithm_v7,
// cudnnGetConvolution*WorkspaceSize. Reference: cuDNN API reference, "cudnn_cnn library" and
// "cudnnMathType_t".
//
// Algorithm choice: the _v7 heuristics (what PyTorch does with torch.backends.cudnn.benchmark
// off), not cudnnFind*AlgorithmEx. The heuristics run on the host without touching the device:
// no synchronization of the stream (the backend never waits outside copies to the host), no
// benchmark buffers, and the same choice on every run. Every candidate, in cuDNN's ranking, that
// reports success, respects the math rule below, and whose workspace (asked again of
// cudnnGetConvolution*WorkspaceSize for the final math type) fits kMaxWorkspace is kept in that
// order: conv2d.cu runs the first and falls back to the next (see conv2d_plan.h).
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

constexpr size_t kMaxWorkspace = size_t{512} << 20;
constexpr size_t kMaxPlans = 4096;

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

// The acceptable candidates of a _v7 ranking, in order (see the top of the file); the descriptor
// is left with the first one's math type.
template <typename Perf>
Status pick(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, ConvPlan& p, cudnnMathType_t math,
            const std::vector<Perf>& perf, int returned) {
  for (int i = 0; i < returned; i++) {
    const Perf& c = perf[i];
    if (c.status != CUDNN_STATUS_SUCCESS) continue;
    if (math == CUDNN_FMA_MATH && tensor_op(c.mathType)) continue;
    if (c.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;  // may round to float16
    const cudnnMathType_t use = math == CUDNN_FMA_MATH ? math : c.mathType;
    LW_CUDNN_TRY(op, cudnnSetConvolutionMathType(p.conv, use));
    size_t bytes = 0;
    if (workspace_size(ctx, pass, p, static_cast<int>(c.algo), &bytes) != CUDNN_STATUS_SUCCESS) continue;
    if (bytes > kMaxWorkspace) continue;
    p.algos.push_back(ConvAlgo{static_cast<int>(c.algo), use, bytes});
  }
  if (p.algos.empty())
    return Status::Error(StatusCode::kNotImplemented, op,
                         "cuDNN offers no algorithm for this convolution within " +
                             std::to_string(kMaxWorkspace >> 20) + " MiB of workspace (" + s.describe() + ")");
  p.math = p.algos[0].math;
  LW_CUDNN_TRY(op, cudnnSetConvolutionMathType(p.conv, p.math));
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

// Descriptors for s (NCHW or NHWC activations and filter), then the algorithm. p is released by
// the caller on failure.
Status build(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, DType dtype, bool channels_last,
             ConvPlan& p) {
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
  return choose_algo(ctx, op, pass, s, p, math);
}

}  // namespace

Status conv_plan(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, DType dtype, bool channels_last,
                 ConvPlan** out) {
  if (ctx.conv_plans == nullptr) {
    ctx.conv_plans = new (std::nothrow) ConvPlanCache();
    if (ctx.conv_plans == nullptr) return Status::Error(StatusCode::kOutOfMemory, op, "no host memory for the plan cache");
  }
  const ConvKey key{static_cast<int64_t>(pass), static_cast<int64_t>(dtype), channels_last,
                    dtype == DType::kF32 && ctx.allow_tf32, s.batch, s.in_channels, s.in_h, s.in_w,
                    s.out_channels, s.kernel_h, s.kernel_w, s.out_h, s.out_w, s.stride_h, s.stride_w, s.pad_h,
                    s.pad_w, s.dilation_h, s.dilation_w, s.groups};
  auto& plans = ctx.conv_plans->plans;
  auto it = plans.find(key);
  if (it != plans.end()) {
    *out = &it->second;
    return Status::Ok();
  }
  ConvPlan p;
  Status st = build(ctx, op, pass, s, dtype, channels_last, p);
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
