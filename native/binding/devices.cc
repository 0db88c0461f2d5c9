// N-API functions about the backends: loading the CUDA library (after preloading the CUDA
// libraries that src/native/cuda-libraries.ts found), the device queries of `layerwise info` and
// `--device auto` (native/cuda/api.h: no context needed), the CUDA allocator's statistics and
// emptyCache, the TF32 switch, the sticky-error query the training loop makes before each
// checkpoint, and what the CPU backend was built with (threads, OpenBLAS, oneDNN).
#include "devices.h"

#include <omp.h>

#include <cstring>
#include <string>
#include <vector>

#include "backend.h"
#include "errors.h"

#ifdef LAYERWISE_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

extern "C" char* openblas_get_config(void);
extern "C" int openblas_get_num_threads(void);

namespace layerwise::binding {
namespace {

// (libraryPath: string, preload?: string[]) as loadCuda and cudaOpen take them.
void library_args(const Napi::CallbackInfo& info, const char* op, std::string& path, std::vector<std::string>& preload) {
  bool ok = info.Length() >= 1 && info[0].IsString() && (info.Length() < 2 || info[1].IsArray() || info[1].IsUndefined());
  if (!ok) throw_native_error(info.Env(), "ERR_INVALID_ARGUMENT", op, "expected (libraryPath, preload?: string[])");
  path = info[0].As<Napi::String>().Utf8Value();
  if (info.Length() < 2 || info[1].IsUndefined()) return;
  Napi::Array list = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) throw_native_error(info.Env(), "ERR_INVALID_ARGUMENT", op, "preload[" + std::to_string(i) + "] is not a string");
    preload.push_back(v.As<Napi::String>().Utf8Value());
  }
}

Napi::Value LoadCuda(const Napi::CallbackInfo& info) {
  std::string path, error;
  std::vector<std::string> preload;
  library_args(info, "loadCuda", path, preload);
  if (!load_cuda_backend(path, preload, error)) throw_native_error(info.Env(), "ERR_DEVICE_UNAVAILABLE", "loadCuda", error);
  return info.Env().Undefined();
}

Napi::Value CudaOpen(const Napi::CallbackInfo& info) {
  std::string path, error;
  std::vector<std::string> preload;
  library_args(info, "cudaOpen", path, preload);
  if (!open_cuda_library(path, preload, error)) throw_native_error(info.Env(), "ERR_DEVICE_UNAVAILABLE", "cudaOpen", error);
  return info.Env().Undefined();
}

const CudaApi& require_api(const Napi::CallbackInfo& info, const char* op) {
  const CudaApi* api = cuda_api();
  if (api == nullptr) throw_native_error(info.Env(), "ERR_DEVICE_UNAVAILABLE", op, "the CUDA backend library is not loaded");
  return *api;
}

// Throws when the opened library lacks the api.h function `fn` (built from an older api.h).
template <typename Fn>
void require_fn(const Napi::CallbackInfo& info, const char* op, Fn fn, const char* name) {
  if (fn == nullptr)
    throw_native_error(info.Env(), "ERR_DEVICE_UNAVAILABLE", op,
                       std::string("the CUDA backend library does not export ") + name + " (built from another native/cuda/api.h?)");
}

Napi::Number num(Napi::Env env, int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }

// -> [{ name, major, minor, totalMemory, freeMemory, multiprocessors, driverVersion, ... }]
Napi::Value CudaDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CudaApi& api = require_api(info, "cudaDevices");
  require_fn(info, "cudaDevices", api.device_count, "layerwise_cuda_device_count");
  require_fn(info, "cudaDevices", api.device_info, "layerwise_cuda_device_info");
  char error[512] = {0};
  int32_t count = 0;
  if (api.device_count(&count, error, sizeof(error)) != 0) throw_native_error(env, "ERR_DEVICE_UNAVAILABLE", "cudaDevices", error);
  Napi::Array out = Napi::Array::New(env, count);
  for (int32_t d = 0; d < count; d++) {
    LayerwiseCudaDeviceInfo di{};
    if (api.device_info(d, &di, error, sizeof(error)) != 0)
      throw_native_error(env, "ERR_DEVICE_UNAVAILABLE", "cudaDevices", "device " + std::to_string(d) + ": " + error);
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", num(env, d));
    o.Set("name", Napi::String::New(env, std::string(di.name, strnlen(di.name, sizeof(di.name)))));
    o.Set("computeCapability", Napi::String::New(env, std::to_string(di.major) + "." + std::to_string(di.minor)));
    o.Set("totalMemory", num(env, di.total_memory));
    o.Set("freeMemory", num(env, di.free_memory));
    o.Set("multiprocessors", num(env, di.multiprocessors));
    o.Set("driverVersion", num(env, di.driver_version));
    o.Set("runtimeVersion", num(env, di.runtime_version));
    o.Set("cudnnVersion", num(env, di.cudnn_version));
    o.Set("cublasLtVersion", num(env, di.cublaslt_version));
    out.Set(static_cast<uint32_t>(d), o);
  }
  return out;
}

// The CUDA backend of a created context, or nullptr.
Backend* cuda_backend() { return cuda_api() != nullptr ? backend_for(kDeviceCuda) : nullptr; }

// -> the caching allocator's statistics, or null when the CUDA backend is not loaded.
Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Backend* be = cuda_backend();
  if (be == nullptr) return env.Null();
  require_fn(info, "cudaMemoryStats", cuda_api()->memory_stats, "layerwise_cuda_memory_stats");
  LayerwiseCudaMemoryStats s{};
  if (cuda_api()->memory_stats(be->ctx, &s) != 0) throw_native_error(env, "ERR_NATIVE_BACKEND", "cudaMemoryStats", "layerwise_cuda_memory_stats failed");
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocatedBytes", num(env, s.allocated_bytes));
  o.Set("peakAllocatedBytes", num(env, s.peak_allocated_bytes));
  o.Set("reservedBytes", num(env, s.reserved_bytes));
  o.Set("cachedBytes", num(env, s.cached_bytes));
  o.Set("numAllocs", num(env, s.num_allocs));
  o.Set("numCacheHits", num(env, s.num_cache_hits));
  o.Set("numDeviceMallocs", num(env, s.num_device_mallocs));
  o.Set("numDeviceFrees", num(env, s.num_device_frees));
  return o;
}

// -> true when the cache was emptied, false when the CUDA backend is not loaded (nothing cached).
Napi::Value CudaEmptyCache(const Napi::CallbackInfo& info) {
  Backend* be = cuda_backend();
  if (be == nullptr) return Napi::Boolean::New(info.Env(), false);
  require_fn(info, "emptyCache", cuda_api()->empty_cache, "layerwise_cuda_empty_cache");
  if (cuda_api()->empty_cache(be->ctx) != 0)
    throw_native_error(info.Env(), "ERR_NATIVE_BACKEND", "emptyCache", "layerwise_cuda_empty_cache failed (synchronizing the streams reported an error)");
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value CudaSetTf32(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsBoolean()) throw_native_error(info.Env(), "ERR_INVALID_ARGUMENT", "setTf32", "expected a boolean");
  require_api(info, "setTf32");
  Backend* be = cuda_backend();
  if (be == nullptr) throw_native_error(info.Env(), "ERR_DEVICE_UNAVAILABLE", "setTf32", "the CUDA backend is not started");
  require_fn(info, "setTf32", cuda_api()->set_tf32, "layerwise_cuda_set_tf32");
  if (cuda_api()->set_tf32(be->ctx, info[0].As<Napi::Boolean>().Value() ? 1 : 0) != 0)
    throw_native_error(info.Env(), "ERR_NATIVE_BACKEND", "setTf32", "layerwise_cuda_set_tf32 failed");
  return info.Env().Undefined();
}

// -> the sticky error's message while the CUDA context is poisoned, else null.
Napi::Value CudaStickyError(const Napi::CallbackInfo& info) {
  Backend* be = cuda_backend();
  if (be == nullptr) return info.Env().Null();
  require_fn(info, "cudaStickyError", cuda_api()->sticky_error, "layerwise_cuda_sticky_error");
  char error[512] = {0};
  if (cuda_api()->sticky_error(be->ctx, error, sizeof(error)) == 0) return info.Env().Null();
  return Napi::String::New(info.Env(), error[0] != '\0' ? error : "unknown sticky CUDA error");
}

// -> { threads, blasThreads, blas, onednn } of the CPU backend.
Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", num(env, omp_get_max_threads()));
  o.Set("blasThreads", num(env, openblas_get_num_threads()));
  const char* config = openblas_get_config();
  o.Set("blas", Napi::String::New(env, config ? config : "OpenBLAS"));
#ifdef LAYERWISE_HAVE_DNNL
  const dnnl_version_t* v = dnnl_version();
  o.Set("onednn", Napi::String::New(env, std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch)));
#else
  o.Set("onednn", env.Null());
#endif
  return o;
}

}  // namespace

void register_device_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("loadCuda", Napi::Function::New(env, LoadCuda, "loadCuda"));
  exports.Set("cudaOpen", Napi::Function::New(env, CudaOpen, "cudaOpen"));
  exports.Set("cudaDevices", Napi::Function::New(env, CudaDevices, "cudaDevices"));
  exports.Set("cudaMemoryStats", Napi::Function::New(env, CudaMemoryStats, "cudaMemoryStats"));
  exports.Set("cudaEmptyCache", Napi::Function::New(env, CudaEmptyCache, "cudaEmptyCache"));
  exports.Set("cudaSetTf32", Napi::Function::New(env, CudaSetTf32, "cudaSetTf32"));
  exports.Set("cudaStickyError", Napi::Function::New(env, CudaStickyError, "cudaStickyError"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
}

}  // namespace layerwise::binding
