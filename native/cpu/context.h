// The CPU backend's Context and shared helpers. Kernels are synchronous; OpenMP parallelizes
// loops (and OpenBLAS / oneDNN use the same OpenMP pool).
#pragma once
#include <cstdint>
#include <string>

#include "layerwise/kernels.h"

namespace layerwise::cpu {

struct Context {
  int num_threads = 0;  // 0: OpenMP's default
};

// "name=value" pairs for error messages: describe({"n", n}, {"c", c}) -> "n=2, c=3".
std::string describe(std::initializer_list<std::pair<const char*, int64_t>> values);

// Status for a size argument that must be positive (or >= 0 with allow_zero).
Status check_sizes(const char* op, std::initializer_list<std::pair<const char*, int64_t>> values,
                   bool allow_zero = true);

}  // namespace layerwise::cpu
