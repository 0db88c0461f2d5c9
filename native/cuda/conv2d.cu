// CUDA conv2d: conv2d_forward, conv2d_backward_input, conv2d_backward_weight (kernels/conv2d.h) on
// cuDNN's legacy convolution API (cudnnConvolutionForward / BackwardData / BackwardFilter,
// cudnn_cnn.h; cuDNN API reference, "cudnn_cnn library"), with the CPU backend's semantics and
// checks (native/cpu/conv2d.cc): PyTorch Conv2d (cross-correlation, zero padding, stride,
// dilation, groups incl. depthwise), every output overwritten (dw too: alpha 1, beta 0), the empty
// cases handled before cuDNN. Plans (descriptors, algorithms, math types) come from conv2d_plan.cu,
// which may time the candidates on the first call of a shape (LAYERWISE_CUDNN_BENCHMARK).
//
// Memory formats: with channels_last, x / y / dx / dy are NHWC, but the weight stays
// (out_channels, in_channels / groups, kh, kw) row-major, as the contract says and as the CPU
// backend and the TS layer (which never permutes parameters) keep it. cuDNN's NHWC kernels want
// an NHWC (OHWI) filter, so the weight is transposed into a scratch OHWI copy for the forward and
// input-gradient passes, and the weight gradient is computed into OHWI scratch and transposed back
// to OIHW (the weight is small next to the activations); 1x1 and depthwise weights need no copy
// (the two layouts coincide). NCHW runs on the tensors as they are.
// Workspace and scratch come from the caching allocator and are freed after the call, stream
// ordered.
#include <climits>

#include "cuda/conv2d_plan.h"

namespace layerwise::cuda {

namespace {

// The output size PyTorch gives for one spatial dimension, or -1 when the dilated kernel does not
// fit the padded input.
int64_t expected_out(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? -1 : span / stride + 1;
}

// conv2d.cc's checks, with cuDNN's 32-bit descriptor limits in place of BLAS's.
Status check_shape(const char* op, const ConvShape& s) {
  LW_STATUS_TRY(check_sizes(op, {{"batch", s.batch}, {"in_channels", s.in_channels}, {"in_h", s.in_h},
                                 {"in_w", s.in_w}, {"out_channels", s.out_channels}, {"out_h", s.out_h},
                                 {"out_w", s.out_w}, {"pad_h", s.pad_h}, {"pad_w", s.pad_w}}));
  LW_STATUS_TRY(check_sizes(op, {{"kernel_h", s.kernel_h}, {"kernel_w", s.kernel_w}, {"stride_h", s.stride_h},
                                 {"stride_w", s.stride_w}, {"dilation_h", s.dilation_h},
                                 {"dilation_w", s.dilation_w}, {"groups", s.groups}},
                            /*allow_zero=*/false));
  if (s.in_channels % s.groups != 0 || s.out_channels % s.groups != 0)
    return Status::Invalid(op, "groups must divide in_channels and out_channels (" + s.describe() + ")");
  const int64_t oh = expected_out(s.in_h, s.kernel_h, s.stride_h, s.pad_h, s.dilation_h);
  const int64_t ow = expected_out(s.in_w, s.kernel_w, s.stride_w, s.pad_w, s.dilation_w);
  if (oh < 0 || ow < 0)
    return Status::Invalid(op, "the dilated kernel is larger than the padded input (" + s.describe() + ")");
  if (oh != s.out_h || ow != s.out_w)
    return Status::Invalid(op, "out_h, out_w should be " + std::to_string(oh) + ", " + std::to_string(ow) + " (" +
                                   s.describe() + ")");
  // cuDNN's descriptors hold int sizes and strides: every tensor must have fewer than 2^31 elements.
  const int64_t in_numel = s.batch * s.in_channels * s.in_plane(), out_numel = s.batch * s.out_channels * s.out_plane();
  const int64_t w_numel = s.out_channels * s.patch();
  if (in_numel > INT_MAX || out_numel > INT_MAX || w_numel > INT_MAX || s.pad_h > INT_MAX || s.pad_w > INT_MAX ||
      s.stride_h > INT_MAX || s.stride_w > INT_MAX || s.dilation_h > INT_MAX || s.dilation_w > INT_MAX ||
      s.kernel_h > INT_MAX || s.kernel_w > INT_MAX)
    return Status::Error(StatusCode::kNotImplemented, op,
                         "convolution too large for cuDNN's 32-bit descriptors (" + s.describe() + ")");
  return Status::Ok();
}

// dst (o, b, a) = src (o, a, b): OIHW -> OHWI with (a, b) = (in / groups, kh * kw), back with
// (a, b) = (kh * kw, in / groups).
template <typename T>
struct SwapLast2 {
  T* dst;
  const T* src;
  int64_t a, b;
  __device__ void operator()(int64_t idx) const {
    const int64_t per = a * b, o = idx / per, r = idx % per;
    const int64_t bi = r / a, ai = r % a;
    dst[idx] = src[o * per + ai * b + bi];
  }
};

Status swap_last2(Context& ctx, const char* op, DType dtype, void* dst, const void* src, int64_t outer, int64_t a,
                  int64_t b) {
  return dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    return launch_for(ctx, op, outer * a * b, SwapLast2<T>{static_cast<T*>(dst), static_cast<const T*>(src), a, b});
  });
}

// Enqueues the pass with algorithm a on ctx.stream; w is the weight (or, for the weight gradient,
// its output) in the plan's filter format.
cudnnStatus_t convolve(Context& ctx, ConvPass pass, const ConvPlan& p, const ConvAlgo& a, void* ws, void* out,
                       const void* in0, const void* in1, void* w) {
  const float one = 1.0f, zero = 0.0f;
  switch (pass) {
    case ConvPass::kForward:  // y = conv(x = in0, w)
      return cudnnConvolutionForward(ctx.cudnn, &one, p.x, in0, p.w, w, p.conv,
                                     static_cast<cudnnConvolutionFwdAlgo_t>(a.algo), ws, a.workspace, &zero, p.y, out);
    case ConvPass::kBackwardInput:  // dx from dy = in0 and w
      return cudnnConvolutionBackwardData(ctx.cudnn, &one, p.w, w, p.y, in0, p.conv,
                                          static_cast<cudnnConvolutionBwdDataAlgo_t>(a.algo), ws, a.workspace, &zero,
                                          p.x, out);
    case ConvPass::kBackwardWeight:  // dw (= w here) from dy = in0 and x = in1, overwritten
      return cudnnConvolutionBackwardFilter(ctx.cudnn, &one, p.x, in1, p.y, in0, p.conv,
                                            static_cast<cudnnConvolutionBwdFilterAlgo_t>(a.algo), ws, a.workspace,
                                            &zero, p.w, w);
  }
  return CUDNN_STATUS_BAD_PARAM;
}

// One pass after the checks and the empty cases: out = pass(in0, in1), see the top of the file.
// The plan's algorithms are tried in order: one whose workspace cannot be allocated is skipped for
// this call, one cuDNN refuses (a CUDNN_STATUS_NOT_SUPPORTED* status) is dropped from the plan.
Status run_pass(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, DType dtype, bool channels_last,
                void* out, const void* in0, const void* in1) {
  const int64_t w_numel = s.out_channels * s.patch(), taps = s.kernel_h * s.kernel_w, cig = s.in_per_group();
  // The weight in the filter format: OIHW as given, or an OHWI scratch copy with channels_last
  // (for the weight gradient: OHWI scratch output, transposed into dw afterwards). With one tap
  // (1x1 kernels) or one input channel per group (depthwise) OHWI and OIHW are the same bytes.
  ScratchBlock w_nhwc(ctx);
  void* w = pass == ConvPass::kBackwardWeight ? out : const_cast<void*>(in1);
  const bool permute = channels_last && taps > 1 && cig > 1;
  if (permute) {
    LW_STATUS_TRY(scratch_alloc(ctx, op, &w_nhwc.ptr, w_numel * dtype_size(dtype)));
    if (pass != ConvPass::kBackwardWeight) LW_STATUS_TRY(swap_last2(ctx, op, dtype, w_nhwc.ptr, in1, s.out_channels, cig, taps));
    w = w_nhwc.ptr;
  }
  ConvPlan* p = nullptr;
  const void* plan_in1 = pass == ConvPass::kBackwardWeight ? in1 : w;  // x, or the weight as cuDNN reads it
  LW_STATUS_TRY(conv_plan(ctx, op, pass, s, dtype, channels_last, in0, plan_in1, &p));
  LW_CUDNN_TRY(op, cudnnSetStream(ctx.cudnn, ctx.stream));
  for (size_t i = 0; i < p->algos.size();) {
    const ConvAlgo a = p->algos[i];
    const bool last = i + 1 == p->algos.size();
    ScratchBlock ws(ctx);
    if (a.workspace > 0) {
      Status st = scratch_alloc(ctx, op, &ws.ptr, static_cast<int64_t>(a.workspace));
      if (st.code == StatusCode::kOutOfMemory && !last) {
        i++;
        continue;
      }
      LW_STATUS_TRY(st);
    }
    if (a.math != p->math) {
      LW_CUDNN_TRY(op, cudnnSetConvolutionMathType(p->conv, a.math));
      p->math = a.math;
    }
    const cudnnStatus_t cs = convolve(ctx, pass, *p, a, ws.ptr, out, in0, in1, w);
    if (cs != CUDNN_STATUS_SUCCESS) {
      // cuDNN 9 refuses with a sub-code of the category (..._NOT_SUPPORTED_SHAPE, ..._LAYOUT).
      // A refusal leaves cuDNN's failed launch in cudaGetLastError: a sticky one is returned as
      // such, any other is cleared so that a later check_launch does not report it.
      Status launch = check_launch(ctx, op);
      if (ctx.poisoned) return launch;
      if (CUDNN_STATUS_CATEGORY(static_cast<int>(cs)) == CUDNN_STATUS_NOT_SUPPORTED && !last) {
        p->algos.erase(p->algos.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      return cudnn_status(op, cs, "the convolution");
    }
    if (permute && pass == ConvPass::kBackwardWeight)
      LW_STATUS_TRY(swap_last2(ctx, op, dtype, out, w, s.out_channels, taps, cig));
    return check_launch(ctx, op);
  }
  return Status::Error(StatusCode::kBackendError, op, "no cuDNN algorithm could run (" + s.describe() + ")");
}

Status zero(Context& ctx, const char* op, void* p, DType dtype, int64_t n) {  // +0.0 is all zero bits
  if (n > 0) LW_CUDA_TRY(ctx, op, cudaMemsetAsync(p, 0, static_cast<size_t>(n * dtype_size(dtype)), ctx.stream));
  return Status::Ok();
}

Status check_dtype(const char* op, DType dtype) {
  return dispatch_float(dtype, op, [](auto) { return Status::Ok(); });
}

}  // namespace

#define LW_CONV_SHAPE                                                                                          \
  ConvShape{batch, in_channels, in_h, in_w, out_channels, kernel_h, kernel_w, out_h, out_w, stride_h, stride_w, \
            pad_h, pad_w, dilation_h, dilation_w, groups}

Status conv2d_forward(Context& ctx, void* y, const void* x, const void* w, DType dtype, int64_t batch,
                      int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels, int64_t kernel_h,
                      int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t stride_h, int64_t stride_w,
                      int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w, int64_t groups,
                      bool channels_last) {
  const char* op = "conv2d_forward";
  const ConvShape s = LW_CONV_SHAPE;
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_dtype(op, dtype));
  LW_STATUS_TRY(check_shape(op, s));
  if (s.batch * s.out_channels * s.out_plane() == 0) return Status::Ok();
  if (s.in_channels == 0 || s.in_plane() == 0)  // an empty sum (or only padding): y = 0
    return zero(ctx, op, y, dtype, s.batch * s.out_channels * s.out_plane());
  return run_pass(ctx, op, ConvPass::kForward, s, dtype, channels_last, y, x, w);
}

Status conv2d_backward_input(Context& ctx, void* dx, const void* dy, const void* w, DType dtype, int64_t batch,
                             int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels, int64_t kernel_h,
                             int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t stride_h, int64_t stride_w,
                             int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w, int64_t groups,
                             bool channels_last) {
  const char* op = "conv2d_backward_input";
  const ConvShape s = LW_CONV_SHAPE;
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_dtype(op, dtype));
  LW_STATUS_TRY(check_shape(op, s));
  if (s.batch * s.in_channels * s.in_plane() == 0) return Status::Ok();
  if (s.out_channels == 0 || s.out_plane() == 0)  // nothing flows back: dx = 0
    return zero(ctx, op, dx, dtype, s.batch * s.in_channels * s.in_plane());
  return run_pass(ctx, op, ConvPass::kBackwardInput, s, dtype, channels_last, dx, dy, w);
}

Status conv2d_backward_weight(Context& ctx, void* dw, const void* dy, const void* x, DType dtype, int64_t batch,
                              int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels,
                              int64_t kernel_h, int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t stride_h,
                              int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h,
                              int64_t dilation_w, int64_t groups, bool channels_last) {
  const char* op = "conv2d_backward_weight";
  const ConvShape s = LW_CONV_SHAPE;
  LW_STATUS_TRY(check_context(ctx, op));
  LW_STATUS_TRY(check_dtype(op, dtype));
  LW_STATUS_TRY(check_shape(op, s));
  if (s.out_channels * s.patch() == 0) return Status::Ok();
  if (s.batch == 0 || s.out_plane() == 0 || s.in_plane() == 0)  // an empty sum: dw = 0
    return zero(ctx, op, dw, dtype, s.out_channels * s.patch());
  return run_pass(ctx, op, ConvPass::kBackwardWeight, s, dtype, channels_last, dw, dy, x);
}

#undef LW_CONV_SHAPE

}  // namespace layerwise::cuda
