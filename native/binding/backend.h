// The backends the binding can dispatch to: device 0 is the CPU backend, linked into the core
// addon; device 1 is CUDA, a separate shared library loaded on demand (loadCuda), so a machine
// without a GPU or CUDA libraries always loads the core addon.
#pragma once
#include <string>

#include "generated/kernel_table.h"

namespace layerwise::binding {

constexpr int kDeviceCpu = 0;
constexpr int kDeviceCuda = 1;

struct Backend {
  const char* name = "";
  int device = kDeviceCpu;
  void* ctx = nullptr;                 // the backend's Context
  const KernelTable* table = nullptr;  // every kernel of kernels.h
};

// Returns the backend for `device`, or nullptr when it is not loaded.
Backend* backend_for(int device);
// Loads the CUDA backend library at `path`; on failure returns false and sets `error`.
bool load_cuda_backend(const std::string& path, std::string& error);
const char* device_name(int device);
// Empty when `table` was built from the same contract as this addon, else why not (both versions).
std::string check_table_version(const KernelTable* table);

}  // namespace layerwise::binding

// Implemented by each backend (native/<backend>/table.cc).
namespace layerwise::cpu {
void* create_context();
const KernelTable* kernel_table();
}  // namespace layerwise::cpu

// The entry point the CUDA backend library exports (looked up with dlsym).
extern "C" typedef int (*layerwise_cuda_backend_fn)(void** ctx, const layerwise::KernelTable** table,
                                                     char* error, int error_len);
