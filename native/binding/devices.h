// N-API functions about the backends (native/binding/devices.cc): loading the CUDA library,
// its device queries and allocator controls, and what the CPU backend was built with.
#pragma once
#include <napi.h>

namespace layerwise::binding {

// Adds loadCuda, cudaOpen, cudaDevices, cudaMemoryStats, cudaEmptyCache, cudaSetTf32,
// cudaStickyError and cpuInfo to `exports`.
void register_device_functions(Napi::Env env, Napi::Object exports);

}  // namespace layerwise::binding
