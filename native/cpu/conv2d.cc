// Conv2d on the CPU (PyTorch torch.nn.Conv2d semantics: cross-correlation, zero padding, stride,
// dilation, groups): argument checks, empty shapes, and the choice between the implementations
// declared in conv2d.h (oneDNN and im2col + OpenBLAS) for each dtype and memory format.
//
// Path choice: LAYERWISE_CONV=im2col|dnnl forces one (shapes oneDNN rejects still run on im2col);
// unset, default_path picks the faster one for the shape (oneDNN for most, when built with it).
// The variable is read at each call (a getenv, negligible next to a convolution), so a process can
// switch paths by setting process.env, which is how test/kernels/conv2d.test.ts covers both.
//
// Dtypes and formats: float32 NCHW runs as chosen above. float32 NHWC and bfloat16 (either
// format) run on oneDNN directly when the path is dnnl; bfloat16 prefers oneDNN even where
// float32 would take im2col (staging through float32 costs more than oneDNN's channel padding).
// Everything else (float16, LAYERWISE_CONV=im2col, a build without oneDNN, a combination oneDNN
// rejects) is staged (stage.h): inputs converted to float32 NCHW scratch, the float32 NCHW
// convolution run, the output rounded back to its dtype and format.
// Measured (cnn3's three convolutions at batch 128 on 32x32 inputs, forward + both backward
// passes, one thread, AVX512_BF16 CPU, best of 8): float32 NCHW 84 ms, bfloat16 NCHW on oneDNN
// 47 ms, bfloat16 NHWC on oneDNN 33 ms, bfloat16 staged through float32 im2col 133 ms.
#include <cstdlib>
#include <cstring>
#include <new>

#include "cpu/conv2d.h"
#include "cpu/stage.h"

namespace layerwise::cpu {

std::string ConvShape::describe() const {
  return cpu::describe({{"batch", batch}, {"in_channels", in_channels}, {"in_h", in_h}, {"in_w", in_w},
                        {"out_channels", out_channels}, {"kernel_h", kernel_h}, {"kernel_w", kernel_w},
                        {"out_h", out_h}, {"out_w", out_w}, {"stride_h", stride_h}, {"stride_w", stride_w},
                        {"pad_h", pad_h}, {"pad_w", pad_w}, {"dilation_h", dilation_h},
                        {"dilation_w", dilation_w}, {"groups", groups}});
}

namespace {

enum class Path { kIm2col, kDnnl };

// The output size PyTorch gives for one spatial dimension, or -1 when the dilated kernel does not
// fit the padded input.
int64_t expected_out(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? -1 : span / stride + 1;
}

Status check_shape(const char* op, const ConvShape& s) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"batch", s.batch}, {"in_channels", s.in_channels}, {"in_h", s.in_h},
                                      {"in_w", s.in_w}, {"out_channels", s.out_channels},
                                      {"out_h", s.out_h}, {"out_w", s.out_w}, {"pad_h", s.pad_h},
                                      {"pad_w", s.pad_w}}));
  LW_RETURN_IF_ERROR(check_sizes(op, {{"kernel_h", s.kernel_h}, {"kernel_w", s.kernel_w}, {"stride_h", s.stride_h},
                                      {"stride_w", s.stride_w}, {"dilation_h", s.dilation_h},
                                      {"dilation_w", s.dilation_w}, {"groups", s.groups}},
                                 /*allow_zero=*/false));
  if (s.in_channels % s.groups != 0 || s.out_channels % s.groups != 0)
    return Status::Invalid(op, "groups must divide in_channels and out_channels (" + s.describe() + ")");
  int64_t oh = expected_out(s.in_h, s.kernel_h, s.stride_h, s.pad_h, s.dilation_h);
  int64_t ow = expected_out(s.in_w, s.kernel_w, s.stride_w, s.pad_w, s.dilation_w);
  if (oh < 0 || ow < 0)
    return Status::Invalid(op, "the dilated kernel is larger than the padded input (" + s.describe() + ")");
  if (oh != s.out_h || ow != s.out_w)
    return Status::Invalid(op, "out_h, out_w should be " + std::to_string(oh) + ", " + std::to_string(ow) + " (" +
                                   s.describe() + ")");
  const int64_t int_max = 2147483647;  // BLAS dimensions are 32-bit
  if (s.out_per_group() > int_max || s.patch() > int_max || s.out_plane() > int_max / 2)
    return Status::Error(StatusCode::kNotImplemented, op, "convolution too large for 32-bit BLAS (" + s.describe() + ")");
  return Status::Ok();
}

#ifdef LAYERWISE_HAVE_DNNL
constexpr bool kHaveDnnl = true;
#else
constexpr bool kHaveDnnl = false;
#endif

using Pass = ConvPass;

// The faster path for a shape, from measurements on 2 Zen 5 cores (OpenBLAS pinned to its AVX2
// kernels, oneDNN on AVX-512): oneDNN ran 2-2.5x faster on the common shapes (channels a multiple
// of 16) and 5-10x on depthwise ones, but it pads each channel group to 16 in its blocked layouts,
// which made it slower for the input gradient of few-channel inputs (1 to 8 channels: 1.5-5x
// slower than im2col) and for grouped convolutions with other channel counts.
Path default_path(Pass pass, const ConvShape& s) {
  if (!kHaveDnnl) return Path::kIm2col;
  const int64_t cig = s.in_per_group(), cog = s.out_per_group();
  if (s.groups > 1 && cig == 1 && cog == 1) return Path::kDnnl;  // depthwise
  if (s.groups > 1 && (cig % 16 != 0 || cog % 16 != 0)) return Path::kIm2col;
  if (pass == Pass::kBackwardInput && cig < 16) return Path::kIm2col;
  return Path::kDnnl;
}

// Where the depthwise direct loops beat the generic path (oneDNN). Measured with
// scripts/bench/depthwise.mjs on 2 shared Zen 5 cores, one thread, batch 8, best of 7 (ms, direct
// vs oneDNN): the weight gradient at stride 1 wins, 7x7 kernel, C=96 56x56: NCHW float32 6.6 vs
// 126, bfloat16 8.1 vs 113; NHWC float32 19.6 vs 22.2, bfloat16 12.4 vs 40.3; C=768 7x7: NHWC
// float32 1.7 vs 4.2, bfloat16 1.4 vs 15.9, but NCHW 10.6 vs 9.1 (rows of 7 are too short for the
// vector loop). oneDNN's AVX-512 kernels win the forward and input-gradient passes (C=96 56x56
// NCHW float32 forward 7.1 vs 4.4, NHWC 5.2 vs 2.6) and every pass at stride 2.
bool default_depthwise(Pass pass, const ConvShape& s, DType dtype, bool channels_last) {
  (void)dtype;
  if (!kHaveDnnl) return true;  // the alternative is im2col, slower for every depthwise shape measured
  if (pass != Pass::kBackwardWeight || s.stride_h != 1 || s.stride_w != 1) return false;
  return channels_last || s.out_w >= 16;
}

// The path to use for shape s: LAYERWISE_CONV when set, else default_path.
Status choose_path(const char* op, Pass pass, const ConvShape& s, Path* path) {
  const char* env = std::getenv("LAYERWISE_CONV");
  if (env == nullptr || *env == '\0') {
    *path = default_path(pass, s);
  } else if (std::strcmp(env, "im2col") == 0) {
    *path = Path::kIm2col;
  } else if (std::strcmp(env, "dnnl") == 0) {
    if (!kHaveDnnl)
      return Status::Error(StatusCode::kNotImplemented, op,
                           "LAYERWISE_CONV=dnnl but this build has no oneDNN (install libdnnl-dev and rebuild)");
    *path = Path::kDnnl;
  } else {
    return Status::Invalid(op, std::string("LAYERWISE_CONV must be im2col or dnnl, got '") + env + "'");
  }
  return Status::Ok();
}

void zero(void* p, DType dtype, int64_t n) {  // +0.0 is all zero bits in every float dtype
  if (n > 0) std::memset(p, 0, static_cast<size_t>(dtype_size(dtype) * n));
}

ConvShape make_shape(int64_t batch, int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels,
                     int64_t kernel_h, int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t stride_h,
                     int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                     int64_t groups) {
  return ConvShape{batch, in_channels, in_h, in_w, out_channels, kernel_h, kernel_w, out_h, out_w,
                   stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups};
}

// The tensors of one pass: its output and two inputs, each an activation of the input side
// (batch, in_channels, in_h, in_w), of the output side, or the weight.
enum class Kind { kIn, kOut, kWeight };

struct PassInfo {
  Pass pass;
  const char* op;
  Kind kind[3];  // output, input 0, input 1
};

int64_t numel(const ConvShape& s, Kind k) {
  switch (k) {
    case Kind::kIn: return s.batch * s.in_channels * s.in_plane();
    case Kind::kOut: return s.batch * s.out_channels * s.out_plane();
    case Kind::kWeight: return s.out_channels * s.patch();
  }
  return 0;
}

int64_t channels(const ConvShape& s, Kind k) { return k == Kind::kIn ? s.in_channels : s.out_channels; }
int64_t plane(const ConvShape& s, Kind k) { return k == Kind::kIn ? s.in_plane() : s.out_plane(); }

// The float32 NCHW convolution of one pass on the chosen path.
Status run_f32_nchw(const PassInfo& p, const ConvShape& s, Path path, float* out, const float* a,
                    const float* b) {
#ifdef LAYERWISE_HAVE_DNNL
  if (path == Path::kDnnl) {
    bool unsupported = false;
    Status st = conv2d_dnnl(p.pass, p.op, s, DType::kF32, false, out, a, b, &unsupported);
    if (!unsupported) return st;
  }
#endif
  switch (p.pass) {
    case Pass::kForward: return conv2d_im2col_forward(s, out, a, b);
    case Pass::kBackwardInput: return conv2d_im2col_backward_input(s, out, a, b);
    case Pass::kBackwardWeight: return conv2d_im2col_backward_weight(s, out, a, b);
  }
  return Status::Invalid(p.op, "unknown pass");
}

// Stages one pass through float32 NCHW scratch (see the top of this file).
Status run_staged(const PassInfo& p, const ConvShape& s, Path path, DType dtype, bool channels_last,
                  void* out, const void* a, const void* b) {
  try {
    std::unique_ptr<float[]> buf[3];
    const void* in[2] = {a, b};
    for (int t = 0; t < 3; t++) buf[t] = scratch_f32(numel(s, p.kind[t]));
    for (int t = 1; t < 3; t++) {
      const Kind k = p.kind[t];
      if (k == Kind::kWeight) load_f32(buf[t].get(), in[t - 1], dtype, numel(s, k));
      else load_f32_nchw(buf[t].get(), in[t - 1], dtype, channels_last, s.batch, channels(s, k), plane(s, k));
    }
    LW_RETURN_IF_ERROR(run_f32_nchw(p, s, path, buf[0].get(), buf[1].get(), buf[2].get()));
    const Kind k = p.kind[0];
    if (k == Kind::kWeight) store_f32(out, buf[0].get(), dtype, numel(s, k));
    else store_f32_nchw(out, buf[0].get(), dtype, channels_last, s.batch, channels(s, k), plane(s, k));
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, p.op,
                         std::string("out of memory staging ") + dtype_name(dtype) + " through float32 (" +
                             s.describe() + ")");
  }
}

// Whether a depthwise shape runs the direct loops of conv2d_depthwise.cc: LAYERWISE_DEPTHWISE=direct
// or =generic forces it on or off; otherwise they run where they measured faster than the generic
// path (default_depthwise) and LAYERWISE_CONV does not force a generic path.
bool use_depthwise(Pass pass, const ConvShape& s, DType dtype, bool channels_last) {
  if (!depthwise_supported(s, dtype)) return false;
  const char* env = std::getenv("LAYERWISE_DEPTHWISE");
  if (env != nullptr && std::strcmp(env, "direct") == 0) return true;
  if (env != nullptr && std::strcmp(env, "generic") == 0) return false;
  const char* conv = std::getenv("LAYERWISE_CONV");
  if (conv != nullptr && *conv != '\0') return false;
  return default_depthwise(pass, s, dtype, channels_last);
}

// One pass after the checks and the empty cases: the path for (dtype, format), see the top.
Status run_pass(const PassInfo& p, const ConvShape& s, Path path, DType dtype, bool channels_last,
                void* out, const void* a, const void* b) {
  if (use_depthwise(p.pass, s, dtype, channels_last)) return conv2d_depthwise(p.pass, p.op, s, dtype, channels_last, out, a, b);
  const char* env = std::getenv("LAYERWISE_CONV");
  const bool env_im2col = env != nullptr && std::strcmp(env, "im2col") == 0;
  if (dtype == DType::kF32 && !channels_last)
    return run_f32_nchw(p, s, path, static_cast<float*>(out), static_cast<const float*>(a),
                        static_cast<const float*>(b));
#ifdef LAYERWISE_HAVE_DNNL
  const bool try_dnnl = dtype == DType::kBF16 ? !env_im2col : (dtype == DType::kF32 && path == Path::kDnnl);
  if (try_dnnl) {
    bool unsupported = false;
    Status st = conv2d_dnnl(p.pass, p.op, s, dtype, channels_last, out, a, b, &unsupported);
    if (!unsupported) return st;
  }
#else
  (void)env_im2col;
#endif
  return run_staged(p, s, path, dtype, channels_last, out, a, b);
}

Status check_dtype(const char* op, DType dtype) {
  return dispatch_float(dtype, op, [](auto) { return Status::Ok(); });
}

}  // namespace

#define LW_CONV_SHAPE                                                                                         \
  make_shape(batch, in_channels, in_h, in_w, out_channels, kernel_h, kernel_w, out_h, out_w, stride_h, stride_w, \
             pad_h, pad_w, dilation_h, dilation_w, groups)

Status conv2d_forward(Context& ctx, void* y, const void* x, const void* w, DType dtype, int64_t batch,
                      int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels,
                      int64_t kernel_h, int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t stride_h,
                      int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h,
                      int64_t dilation_w, int64_t groups, bool channels_last) {
  static const PassInfo p{Pass::kForward, "conv2d_forward", {Kind::kOut, Kind::kIn, Kind::kWeight}};
  const ConvShape s = LW_CONV_SHAPE;
  LW_RETURN_IF_ERROR(check_dtype(p.op, dtype));
  LW_RETURN_IF_ERROR(check_shape(p.op, s));
  Path path;
  LW_RETURN_IF_ERROR(choose_path(p.op, p.pass, s, &path));
  if (s.batch * s.out_channels * s.out_plane() == 0) return Status::Ok();
  if (s.in_channels == 0 || s.in_plane() == 0) {  // an empty sum (or only padding): y = 0
    zero(y, dtype, s.batch * s.out_channels * s.out_plane());
    return Status::Ok();
  }
  return run_pass(p, s, path, dtype, channels_last, y, x, w);
}

Status conv2d_backward_input(Context& ctx, void* dx, const void* dy, const void* w, DType dtype, int64_t batch,
                             int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels,
                             int64_t kernel_h, int64_t kernel_w, int64_t out_h, int64_t out_w,
                             int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                             int64_t dilation_h, int64_t dilation_w, int64_t groups, bool channels_last) {
  static const PassInfo p{Pass::kBackwardInput, "conv2d_backward_input", {Kind::kIn, Kind::kOut, Kind::kWeight}};
  const ConvShape s = LW_CONV_SHAPE;
  LW_RETURN_IF_ERROR(check_dtype(p.op, dtype));
  LW_RETURN_IF_ERROR(check_shape(p.op, s));
  Path path;
  LW_RETURN_IF_ERROR(choose_path(p.op, p.pass, s, &path));
  if (s.batch * s.in_channels * s.in_plane() == 0) return Status::Ok();
  if (s.out_channels == 0 || s.out_plane() == 0) {  // nothing flows back: dx = 0
    zero(dx, dtype, s.batch * s.in_channels * s.in_plane());
    return Status::Ok();
  }
  return run_pass(p, s, path, dtype, channels_last, dx, dy, w);
}

Status conv2d_backward_weight(Context& ctx, void* dw, const void* dy, const void* x, DType dtype, int64_t batch,
                              int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels,
                              int64_t kernel_h, int64_t kernel_w, int64_t out_h, int64_t out_w,
                              int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                              int64_t dilation_h, int64_t dilation_w, int64_t groups, bool channels_last) {
  static const PassInfo p{Pass::kBackwardWeight, "conv2d_backward_weight", {Kind::kWeight, Kind::kOut, Kind::kIn}};
  const ConvShape s = LW_CONV_SHAPE;
  LW_RETURN_IF_ERROR(check_dtype(p.op, dtype));
  LW_RETURN_IF_ERROR(check_shape(p.op, s));
  Path path;
  LW_RETURN_IF_ERROR(choose_path(p.op, p.pass, s, &path));
  if (s.out_channels * s.patch() == 0) return Status::Ok();
  if (s.batch == 0 || s.out_plane() == 0 || s.in_plane() == 0) {  // an empty sum: dw = 0
    zero(dw, dtype, s.out_channels * s.patch());
    return Status::Ok();
  }
  return run_pass(p, s, path, dtype, channels_last, dw, dy, x);
}

#undef LW_CONV_SHAPE

}  // namespace layerwise::cpu
