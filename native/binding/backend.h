// The backends the binding can dispatch to: device 0 is the CPU backend, linked into the core
// addon; device 1 is CUDA, a separate shared library loaded on demand (loadCuda), so a machine
// without a GPU or CUDA libraries always loads the core addon.
#pragma once
#include <string>
#include <vector>

#include "cuda/api.h"
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
// The CUDA library's C ABI besides its table (native/cuda/api.h), resolved with dlsym.
struct CudaApi {
  decltype(&layerwise_cuda_backend) backend = nullptr;
  decltype(&layerwise_cuda_device_count) device_count = nullptr;
  decltype(&layerwise_cuda_device_info) device_info = nullptr;
  decltype(&layerwise_cuda_memory_stats) memory_stats = nullptr;
  decltype(&layerwise_cuda_empty_cache) empty_cache = nullptr;
  decltype(&layerwise_cuda_set_tf32) set_tf32 = nullptr;
  decltype(&layerwise_cuda_sticky_error) sticky_error = nullptr;
};

// Opens the CUDA backend library at `path` without creating a context (enough for the device
// queries): first dlopens every library of `preload` by full path (RTLD_NOW | RTLD_GLOBAL: cuBLAS,
// cuDNN, ... found by src/native/cuda-libraries.ts) so that the library's DT_NEEDED entries
// resolve by soname, then the library itself. On failure returns false and sets `error`.
bool open_cuda_library(const std::string& path, const std::vector<std::string>& preload, std::string& error);
// The resolved C ABI, or nullptr until open_cuda_library succeeded.
const CudaApi* cuda_api();
// Opens the library (as above) and creates the CUDA backend (context, streams, handles) on it.
bool load_cuda_backend(const std::string& path, const std::vector<std::string>& preload, std::string& error);
const char* device_name(int device);
// Empty when `table` was built from the same contract as this addon, else why not (both versions).
std::string check_table_version(const KernelTable* table);

}  // namespace layerwise::binding

// Implemented by each backend (native/<backend>/table.cc).
namespace layerwise::cpu {
void* create_context();
const KernelTable* kernel_table();
}  // namespace layerwise::cpu
