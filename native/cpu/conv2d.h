// Internal interface of the CPU convolution: the resolved shape of one Conv2d call and the two
// implementations behind conv2d_forward / conv2d_backward_input / conv2d_backward_weight
// (conv2d.cc checks arguments and picks the path):
//   * conv2d_im2col.cc: im2col / col2im + OpenBLAS sgemm, always available;
//   * conv2d_dnnl.cc:   oneDNN primitives cached per shape, when built with LAYERWISE_HAVE_DNNL.
#pragma once
#include <cstdint>
#include <string>

#include "cpu/context.h"

namespace layerwise::cpu {

// One convolution's sizes, PyTorch Conv2d semantics (dilation 1 = dense kernel). Every field is
// checked by conv2d.cc before an implementation sees it; all sizes are then > 0 except where the
// implementation is told otherwise (it is only called with batch, channels and spatial sizes > 0).
struct ConvShape {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, kernel_h, kernel_w, out_h, out_w;
  int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups;

  int64_t in_per_group() const { return in_channels / groups; }
  int64_t out_per_group() const { return out_channels / groups; }
  // The reduction length of one output element: (in_channels / groups) * kernel_h * kernel_w.
  int64_t patch() const { return in_per_group() * kernel_h * kernel_w; }
  int64_t in_plane() const { return in_h * in_w; }
  int64_t out_plane() const { return out_h * out_w; }
  std::string describe() const;
};

// The three passes; each has one output and two inputs, in the order of its kernel's arguments:
//   forward (y; x, w), backward input (dx; dy, w), backward weight (dw; dy, x).
enum class ConvPass { kForward, kBackwardInput, kBackwardWeight };

// im2col path (conv2d_im2col.cc), float32 NCHW only. Outputs are overwritten.
Status conv2d_im2col_forward(const ConvShape& s, float* y, const float* x, const float* w);
Status conv2d_im2col_backward_input(const ConvShape& s, float* dx, const float* dy, const float* w);
Status conv2d_im2col_backward_weight(const ConvShape& s, float* dw, const float* dy, const float* x);

// Depthwise direct loops (conv2d_depthwise.cc): groups == in_channels == out_channels, odd
// kernels, stride 1 or 2, dilation 1, float32 or bfloat16, NCHW or (channels_last) NHWC.
bool depthwise_supported(const ConvShape& s, DType dtype);
Status conv2d_depthwise(ConvPass pass, const char* op, const ConvShape& s, DType dtype, bool channels_last,
                        void* out, const void* in0, const void* in1);

#ifdef LAYERWISE_HAVE_DNNL
// oneDNN path (conv2d_dnnl.cc) for one pass in float32 or bfloat16, NCHW or (channels_last) NHWC
// activations. *unsupported is set when oneDNN has no implementation for the combination (the
// caller then falls back); any other oneDNN failure is returned as a Status naming op and shape.
Status conv2d_dnnl(ConvPass pass, const char* op, const ConvShape& s, DType dtype, bool channels_last,
                   void* out, const void* in0, const void* in1, bool* unsupported);
#endif

}  // namespace layerwise::cpu
