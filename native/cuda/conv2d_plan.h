// Internal interface of the CUDA convolution (conv2d.cu, conv2d_plan.cu): the resolved shape of one
// Conv2d call and the cache of cuDNN plans (descriptors + the algorithms chosen once per pass,
// shape, dtype, memory format, TF32 switch and choice mode) that ctx.conv_plans points to.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/context.h"

namespace layerwise::cuda {

// One convolution's sizes, PyTorch Conv2d semantics; checked by conv2d.cc's rules in conv2d.cu
// before a plan is made (then every size is > 0 and fits cuDNN's 32-bit descriptors).
struct ConvShape {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, kernel_h, kernel_w, out_h, out_w;
  int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups;

  int64_t in_per_group() const { return in_channels / groups; }
  int64_t out_per_group() const { return out_channels / groups; }
  int64_t patch() const { return in_per_group() * kernel_h * kernel_w; }
  int64_t in_plane() const { return in_h * in_w; }
  int64_t out_plane() const { return out_h * out_w; }
  std::string describe() const;
};

// forward (y; x, w), backward input (dx; dy, w), backward weight (dw; dy, x).
enum class ConvPass { kForward = 0, kBackwardInput = 1, kBackwardWeight = 2 };

// One acceptable algorithm (a cudnnConvolutionFwdAlgo_t, BwdDataAlgo_t or BwdFilterAlgo_t by
// pass), the math type it runs with and its workspace bytes.
struct ConvAlgo {
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
};

// The descriptors of one convolution and the acceptable algorithms in cuDNN's ranking (never
// empty); conv2d.cu runs the first and falls back to the next when its workspace cannot be
// allocated or cuDNN refuses it at run time (then it is dropped). `math` is the math type the
// convolution descriptor currently carries.
struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;  // input side, output side
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  std::vector<ConvAlgo> algos;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

// pass, dtype, channels_last, TF32 switch, measured (1) or heuristic (0) choice, then the 16
// ConvShape fields.
using ConvKey = std::array<int64_t, 21>;

struct ConvKeyHash {
  size_t operator()(const ConvKey& key) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the fields
    for (int64_t v : key) {
      h ^= static_cast<uint64_t>(v);
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

struct ConvPlanCache {
  std::unordered_map<ConvKey, ConvPlan, ConvKeyHash> plans;
  // How algorithms are chosen (conv2d_plan.cu): measured with cudnnFind*AlgorithmEx (true), or
  // cuDNN's _v7 heuristics. LAYERWISE_CUDNN_BENCHMARK=0 selects the heuristics; it is read once,
  // when the cache is created.
  bool measured = true;
};

// The plan for (pass, s, dtype, channels_last) under ctx.allow_tf32, creating the cache on first
// use and choosing the algorithm once per key. With channels_last every tensor, the filter
// included, is described as NHWC (conv2d.cu converts the OIHW weight). in0 and in1 are the pass's
// inputs as it will run them (forward: x, w; backward input: dy, w; backward weight: dy, x), the
// weight in the plan's filter format: a measured choice runs the candidates on them, writing only
// into scratch, never into the pass's output.
Status conv_plan(Context& ctx, const char* op, ConvPass pass, const ConvShape& s, DType dtype, bool channels_last,
                 const void* in0, const void* in1, ConvPlan** out);

// Frees a scratch block on every return path (stream ordered).
struct ScratchBlock {
  Context& ctx;
  void* ptr = nullptr;
  explicit ScratchBlock(Context& c) : ctx(c) {}
  ScratchBlock(const ScratchBlock&) = delete;
  ScratchBlock& operator=(const ScratchBlock&) = delete;
  ~ScratchBlock() {
    if (ptr != nullptr) scratch_free(ctx, ptr);
  }
};

// destroy_conv_plans (context.h) releases every plan and the cache.

}  // namespace layerwise::cuda
