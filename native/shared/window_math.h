// Index math of Swin Transformer's shifted windows, shared by the CPU and CUDA backends (LW_HD:
// __host__ __device__ under nvcc). timm's window_partition after torch.roll(x, (-s, -s), (1, 2)):
// token (r, q) of window (b, wh, ww) reads the token map at row (wh*ws + r + s) mod h and column
// (ww*ws + q + s) mod w; window_reverse with the roll back by +s is the inverse map.
#pragma once
#include <cstdint>

#include "layerwise/dtype.h"

namespace layerwise::shared {

// s mod size in [0, size): the roll amount of any integer shift (size > 0).
LW_HD int64_t roll_amount(int64_t shift, int64_t size) {
  const int64_t m = shift % size;
  return m < 0 ? m + size : m;
}

// The source coordinate (row or column) in the token map of window coordinate `pos`
// (wh*ws + r), given roll = roll_amount(shift, size): (pos + roll) mod size.
LW_HD int64_t window_source(int64_t pos, int64_t roll, int64_t size) {
  const int64_t p = pos + roll;
  return p >= size ? p - size : p;
}

// The token map (batch, h, w) of Swin's windows: window_size ws, nh x nw windows per image, and
// the roll of each axis (roll_amount of the shift; 0 for an empty axis).
struct WindowGrid {
  int64_t h, w, ws, nh, nw, roll_h, roll_w;
};

LW_HD WindowGrid window_grid(int64_t h, int64_t w, int64_t ws, int64_t shift) {
  WindowGrid g;
  g.h = h;
  g.w = w;
  g.ws = ws;
  g.nh = h / ws;
  g.nw = w / ws;
  g.roll_h = h > 0 ? roll_amount(shift, h) : 0;
  g.roll_w = w > 0 ? roll_amount(shift, w) : 0;
  return g;
}

// The token-map position (b * h + y) * w + x that token (r, q) of window win (of batch * nh * nw,
// row-major (b, wh, ww)) reads in window_partition (and writes in window_reverse).
LW_HD int64_t window_map_index(const WindowGrid& g, int64_t win, int64_t r, int64_t q) {
  const int64_t ww = win % g.nw;
  const int64_t wh = (win / g.nw) % g.nh;
  const int64_t b = win / (g.nw * g.nh);
  const int64_t y = window_source(wh * g.ws + r, g.roll_h, g.h);
  const int64_t x = window_source(ww * g.ws + q, g.roll_w, g.w);
  return (b * g.h + y) * g.w + x;
}

// The mask window of attention plane p (of batch * num_windows * heads planes): timm's
// attn.view(-1, nW, heads, N, N) + mask.unsqueeze(1).unsqueeze(0).
LW_HD int64_t mask_window(int64_t plane, int64_t heads, int64_t num_windows) { return (plane / heads) % num_windows; }

}  // namespace layerwise::shared
