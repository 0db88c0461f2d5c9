// The core addon's entry point: NativeBuffer, memory statistics, backend loading and device
// queries (devices.cc), error class registration, and every kernel of kernels.h (registered by
// the generated bindings).
#include <napi.h>

#include "backend.h"
#include "buffer.h"
#include "devices.h"
#include "errors.h"
#include "generated/kernel_bindings.h"

namespace layerwise::binding {
namespace {

Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  for (int device : {kDeviceCpu, kDeviceCuda}) {
    MemoryCounters& c = memory_counters(device);
    Napi::Object o = Napi::Object::New(env);
    o.Set("liveBuffers", Napi::Number::New(env, static_cast<double>(c.live_buffers.load())));
    o.Set("liveBytes", Napi::Number::New(env, static_cast<double>(c.live_bytes.load())));
    o.Set("peakBytes", Napi::Number::New(env, static_cast<double>(c.peak_bytes.load())));
    o.Set("totalAllocations", Napi::Number::New(env, static_cast<double>(c.total_allocations.load())));
    o.Set("deviceToHostReads", Napi::Number::New(env, static_cast<double>(c.device_to_host_reads.load())));
    out.Set(device_name(device), o);
  }
  return out;
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsFunction())
    throw_native_error(info.Env(), "ERR_INVALID_ARGUMENT", "setErrorClass", "expected a constructor");
  set_error_class(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  int device = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  Backend* be = backend_for(device);
  if (be == nullptr) throw_native_error(info.Env(), "ERR_DEVICE_UNAVAILABLE", "synchronize", "device not loaded");
  Status st = be->table->device_synchronize(be->ctx);
  if (!st.ok()) throw_native_error(info.Env(), status_code_name(st.code), "synchronize", st.message);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeBuffer", NativeBuffer::Init(env));
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats, "memoryStats"));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  register_device_functions(env, exports);
  exports.Set("synchronize", Napi::Function::New(env, Synchronize, "synchronize"));
  Napi::Object kernels = Napi::Object::New(env);
  register_kernels(env, kernels);
  exports.Set("kernels", kernels);
  return exports;
}

}  // namespace layerwise::binding

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return layerwise::binding::Init(env, exports);
}

NODE_API_MODULE(layerwise, InitAddon)
