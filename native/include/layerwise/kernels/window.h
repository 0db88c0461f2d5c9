// kernels/window.h: the window kernels of the contract; conventions in layerwise/kernels.h.
#pragma once
#include "layerwise/kernels/prelude.h"

namespace layerwise {
namespace LAYERWISE_BACKEND {

// ---- window.cc ---- (Swin Transformer as timm; more in native/cpu/window.cc) x: (batch, h, w, c);
// windows: (batch*nW, ws*ws, c) with windows[(b*(h/ws) + wh)*(w/ws) + ww, r*ws + q] =
// x[b, (wh*ws + r + shift) mod h, (ww*ws + q + shift) mod w]: window_partition after torch.roll by
// -shift. Reverse is its inverse (the roll back by +shift), so each one's backward is the other's
// forward. Exact data movement, any dtype; h, w multiples of window_size; any integer shift.
Status window_partition_forward(Context& ctx, void* y,  // (batch, h, w, c) [dtype]
                                const void* x,  // (batch, h, w, c) [dtype]
                                DType dtype, int64_t batch, int64_t h, int64_t w, int64_t c,
                                int64_t window_size, int64_t shift);
Status window_reverse_forward(Context& ctx, void* y,  // (batch, h, w, c) [dtype]
                              const void* x,  // (batch, h, w, c) [dtype]
                              DType dtype, int64_t batch, int64_t h, int64_t w, int64_t c,
                              int64_t window_size, int64_t shift);
// y[hd, i, j] = table[index[i*n + j], hd] (_get_rel_pos_bias); the backward scatter-adds in double,
// in (i, j) order per head (any thread count, the same bits).
Status relative_position_bias_forward(Context& ctx, void* y,  // (heads, n, n) [dtype]
                                      const float* table,    // (num_rel, heads)
                                      const int32_t* index,  // (n * n)
                                      DType dtype, int64_t heads, int64_t n, int64_t num_rel);
Status relative_position_bias_backward(Context& ctx, float* dtable,  // (num_rel, heads)
                                       const void* dy,        // (heads, n, n) [dtype]
                                       const int32_t* index,  // (n * n)
                                       DType dtype, int64_t heads, int64_t n, int64_t num_rel);
// y[b*nW + w, hd] = x[b*nW + w, hd] + mask[w] in float (shifted windows' 0 / -100 mask); y may alias x.
Status window_mask_add_forward(Context& ctx, void* y,  // (batch * num_windows, heads, n, n) [dtype]
                               const void* x,      // (batch * num_windows, heads, n, n) [dtype]
                               const float* mask,  // (num_windows, n, n)
                               DType dtype, int64_t batch, int64_t num_windows, int64_t heads, int64_t n);

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
