// Multi-tensor work split shared by the fused optimizer kernels (optim.cc, optim_baselines.cc):
// every tensor is cut into chunks of kChunk elements and one static OpenMP loop runs over the
// chunks of all tensors (as apex multi_tensor_apply does on CUDA).
#pragma once
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "cpu/context.h"

namespace layerwise::cpu {

constexpr int64_t kChunk = 65536;

// Chunk table: tensor t owns chunks first[t] .. first[t+1]-1.
struct Chunks {
  std::vector<int64_t> first;  // (num_tensors + 1)

  int64_t count() const { return first.back(); }

  // The tensor of chunk c (the last t with first[t] <= c, which skips empty tensors).
  int64_t tensor_of(int64_t c) const {
    int64_t lo = 0, hi = static_cast<int64_t>(first.size()) - 2;
    while (lo < hi) {
      const int64_t mid = (lo + hi + 1) / 2;
      if (first[mid] <= c) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // Chunk c as (tensor, first element, element count), given the tensors' sizes.
  struct Piece {
    int64_t tensor, start, len;
  };
  Piece piece(int64_t c, const int64_t* numels) const {
    const int64_t t = tensor_of(c);
    const int64_t start = (c - first[t]) * kChunk;
    return Piece{t, start, numels[t] - start < kChunk ? numels[t] - start : kChunk};
  }
};

inline Status make_chunks(const char* op, Chunks& chunks, const int64_t* numels, int64_t num_tensors) {
  LW_RETURN_IF_ERROR(check_sizes(op, {{"num_tensors", num_tensors}}));
  try {
    chunks.first.assign(static_cast<size_t>(num_tensors + 1), 0);
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "no memory for the chunk table of " + std::to_string(num_tensors) + " tensors");
  }
  for (int64_t t = 0; t < num_tensors; t++) {
    if (numels[t] < 0)
      return Status::Invalid(op, "numels[" + std::to_string(t) + "] is negative (" + std::to_string(numels[t]) + ")");
    chunks.first[t + 1] = chunks.first[t] + (numels[t] + kChunk - 1) / kChunk;
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
