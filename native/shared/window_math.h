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

}  // namespace layerwise::shared
