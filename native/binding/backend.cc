// Backend registry: the CPU backend is always present; CUDA is dlopen'ed on request, after the
// CUDA libraries it needs (preloaded by full path, so no LD_LIBRARY_PATH is required).
#include "backend.h"

#include <dlfcn.h>

#include <cstring>

namespace layerwise::binding {

namespace {
Backend cpu_backend;
Backend cuda_backend;
bool cpu_ready = false;
bool cuda_ready = false;
}  // namespace

std::string check_table_version(const KernelTable* table) {
  if (table == nullptr) return "the backend returned no kernel table";
  std::string hash(table->contract_hash, strnlen(table->contract_hash, sizeof(table->contract_hash)));
  if (table->abi_version != kAbiVersion || hash != kContractHash) {
    return "the backend library was built for ABI " + std::to_string(table->abi_version) + " (contract " + hash +
           ") but this addon has ABI " + std::to_string(kAbiVersion) + " (contract " + kContractHash +
           "): rebuild both from the same kernels.h";
  }
  return "";
}

Backend* backend_for(int device) {
  if (device == kDeviceCpu) {
    if (!cpu_ready) {
      cpu_backend.name = "cpu";
      cpu_backend.device = kDeviceCpu;
      cpu_backend.ctx = layerwise::cpu::create_context();
      cpu_backend.table = layerwise::cpu::kernel_table();
      cpu_ready = true;
    }
    return &cpu_backend;
  }
  if (device == kDeviceCuda && cuda_ready) return &cuda_backend;
  return nullptr;
}

namespace {
CudaApi cuda_fns;
void* cuda_handle = nullptr;
std::string cuda_path;

// Forgets the opened library after it failed to start, so that another path can be tried; the
// handle is not dlclose'd (a half-initialized CUDA runtime may have registered exit handlers).
void forget_cuda_library() {
  cuda_fns = CudaApi{};
  cuda_handle = nullptr;
  cuda_path.clear();
}
}  // namespace

bool open_cuda_library(const std::string& path, const std::vector<std::string>& preload, std::string& error) {
  if (cuda_handle != nullptr) {
    if (path == cuda_path) return true;
    error = "the CUDA backend library " + cuda_path + " is already loaded; cannot also load " + path;
    return false;
  }
  for (const std::string& lib : preload) {
    if (dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      const char* why = dlerror();
      error = "cannot load " + lib + ": " + (why ? why : "unknown dlopen error");
      return false;
    }
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    error = "cannot load the CUDA backend " + path + ": " + (why ? why : "unknown dlopen error");
    return false;
  }
  CudaApi fns;
  fns.backend = reinterpret_cast<decltype(fns.backend)>(dlsym(handle, "layerwise_cuda_backend"));
  if (fns.backend == nullptr) {
    error = path + " does not export layerwise_cuda_backend";
    dlclose(handle);
    return false;
  }
  // The rest of native/cuda/api.h: a library without one fails only the calls that need it.
  fns.device_count = reinterpret_cast<decltype(fns.device_count)>(dlsym(handle, "layerwise_cuda_device_count"));
  fns.device_info = reinterpret_cast<decltype(fns.device_info)>(dlsym(handle, "layerwise_cuda_device_info"));
  fns.memory_stats = reinterpret_cast<decltype(fns.memory_stats)>(dlsym(handle, "layerwise_cuda_memory_stats"));
  fns.empty_cache = reinterpret_cast<decltype(fns.empty_cache)>(dlsym(handle, "layerwise_cuda_empty_cache"));
  fns.set_tf32 = reinterpret_cast<decltype(fns.set_tf32)>(dlsym(handle, "layerwise_cuda_set_tf32"));
  fns.sticky_error = reinterpret_cast<decltype(fns.sticky_error)>(dlsym(handle, "layerwise_cuda_sticky_error"));
  cuda_fns = fns;
  cuda_handle = handle;
  cuda_path = path;
  return true;
}

const CudaApi* cuda_api() { return cuda_handle != nullptr ? &cuda_fns : nullptr; }

bool load_cuda_backend(const std::string& path, const std::vector<std::string>& preload, std::string& error) {
  if (cuda_ready) return true;
  if (!open_cuda_library(path, preload, error)) return false;
  char message[512] = {0};
  void* ctx = nullptr;
  const KernelTable* table = nullptr;
  if (cuda_fns.backend(&ctx, &table, message, sizeof(message)) != 0) {
    error = std::string("the CUDA backend failed to start: ") + message;
    forget_cuda_library();
    return false;
  }
  std::string mismatch = check_table_version(table);
  if (!mismatch.empty()) {
    error = path + ": " + mismatch;
    forget_cuda_library();
    return false;
  }
  cuda_backend.name = "cuda";
  cuda_backend.device = kDeviceCuda;
  cuda_backend.ctx = ctx;
  cuda_backend.table = table;
  cuda_ready = true;
  return true;
}

const char* device_name(int device) {
  switch (device) {
    case kDeviceCpu: return "cpu";
    case kDeviceCuda: return "cuda";
    default: return "unknown";
  }
}

}  // namespace layerwise::binding
