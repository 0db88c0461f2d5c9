// Internal to the depthwise Conv2d loops (conv2d_depthwise.cc: NCHW and the entry point,
// conv2d_depthwise_nhwc.cc: NHWC): the resolved geometry and 8-float vector helpers.
#pragma once
#include <cstdint>
#include <cstring>

#include "cpu/conv2d.h"

namespace layerwise::cpu::depthwise {

constexpr int64_t kChanBlock = 16;
constexpr int64_t kMaxKw = 15;  // widest kernel row the blocked weight gradient keeps in registers

// 8 floats as a GCC/Clang generic vector (AVX2 on x86-64-v3, NEON pairs on aarch64).
typedef float v8 __attribute__((vector_size(32)));
typedef uint16_t v8u16 __attribute__((vector_size(16)));
typedef uint32_t v8u32 __attribute__((vector_size(32)));

inline v8 ld(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline v8 ld(const bf16* p) {  // 8 bfloat16 -> 8 floats (exact)
  v8u16 h;
  std::memcpy(&h, p, sizeof h);
  const v8u32 u = __builtin_convertvector(h, v8u32) << 16;
  v8 v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
inline void st(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }
inline v8 splat(float f) { return v8{f, f, f, f, f, f, f, f}; }
inline float hsum(v8 v) {  // a fixed order: (0+4) + (1+5) + (2+6) + (3+7), pairwise
  const float a = v[0] + v[4], b = v[1] + v[5], c = v[2] + v[6], d = v[3] + v[7];
  return (a + c) + (b + d);
}

struct Geo {
  int64_t n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
  int64_t PH() const { return h + 2 * ph; }
  int64_t PW() const { return w + 2 * pw; }
};

inline Geo geo(const ConvShape& s) {
  return Geo{s.batch, s.in_channels, s.in_h, s.in_w, s.out_h, s.out_w, s.kernel_h, s.kernel_w,
             s.stride_h, s.stride_w, s.pad_h, s.pad_w};
}

// The geometry of the stride-1 input gradient as a correlation of dy, padded by k - 1 - p, with
// the flipped kernel (needs p <= k - 1).
inline Geo transposed(const Geo& g) {
  return Geo{g.n, g.c, g.oh, g.ow, g.h, g.w, g.kh, g.kw, 1, 1, g.kh - 1 - g.ph, g.kw - 1 - g.pw};
}

// NHWC passes (conv2d_depthwise_nhwc.cc), instantiated for float and bf16.
template <typename T>
void nhwc_forward(const Geo& g, T* y, const T* x, const T* w);
template <typename T>
void nhwc_backward_input(const Geo& g, T* dx, const T* dy, const T* w);
template <typename T>
void nhwc_backward_weight(const Geo& g, T* dw, const T* dy, const T* x);

}  // namespace layerwise::cpu::depthwise
