// Backend registry: the CPU backend is always present; CUDA is dlopen'ed on request.
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

bool load_cuda_backend(const std::string& path, std::string& error) {
  if (cuda_ready) return true;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    error = "cannot load the CUDA backend " + path + ": " + (why ? why : "unknown dlopen error");
    return false;
  }
  auto entry = reinterpret_cast<layerwise_cuda_backend_fn>(dlsym(handle, "layerwise_cuda_backend"));
  if (entry == nullptr) {
    error = path + " does not export layerwise_cuda_backend";
    dlclose(handle);
    return false;
  }
  char message[512] = {0};
  void* ctx = nullptr;
  const KernelTable* table = nullptr;
  if (entry(&ctx, &table, message, sizeof(message)) != 0) {
    error = std::string("the CUDA backend failed to start: ") + message;
    dlclose(handle);
    return false;
  }
  std::string mismatch = check_table_version(table);
  if (!mismatch.empty()) {
    error = path + ": " + mismatch;
    dlclose(handle);
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
