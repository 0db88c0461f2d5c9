// NativeBuffer implementation (see buffer.h). new NativeBuffer(device, bytes) allocates through
// the device's backend; free() releases at once and is idempotent.
#include "buffer.h"

#include <string>

#include "backend.h"
#include "errors.h"

namespace layerwise::binding {

namespace {
MemoryCounters counters[2];
}

MemoryCounters& memory_counters(int device) { return counters[device == kDeviceCuda ? 1 : 0]; }

Napi::FunctionReference* NativeBuffer::constructor = nullptr;

Napi::Function NativeBuffer::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeBuffer",
                                    {
                                        InstanceMethod<&NativeBuffer::Free>("free"),
                                        InstanceAccessor<&NativeBuffer::GetBytes>("bytes"),
                                        InstanceAccessor<&NativeBuffer::GetDevice>("device"),
                                        InstanceAccessor<&NativeBuffer::GetFreed>("freed"),
                                    });
  constructor = new Napi::FunctionReference(Napi::Persistent(ctor));
  return ctor;
}

bool NativeBuffer::IsInstance(Napi::Value value) {
  return value.IsObject() && value.As<Napi::Object>().InstanceOf(constructor->Value());
}

NativeBuffer::NativeBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeBuffer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw_native_error(env, "ERR_INVALID_ARGUMENT", "alloc", "expected (device, bytes)");
  int device = info[0].As<Napi::Number>().Int32Value();
  double bytes = info[1].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 0) || bytes != static_cast<double>(static_cast<int64_t>(bytes)))
    throw_native_error(env, "ERR_INVALID_ARGUMENT", "alloc",
                       "byte count must be a non-negative integer, got " + std::to_string(bytes));
  Backend* backend = backend_for(device);
  if (backend == nullptr)
    throw_native_error(env, "ERR_DEVICE_UNAVAILABLE", "alloc",
                       std::string("device ") + device_name(device) + " is not loaded");
  device_ = device;
  bytes_ = static_cast<int64_t>(bytes);
  if (bytes_ > 0) {
    Status st = backend->table->device_alloc(backend->ctx, &ptr_, bytes_);
    if (!st.ok()) throw_native_error(env, status_code_name(st.code), "alloc", st.message);
  }
  MemoryCounters& c = memory_counters(device_);
  c.live_buffers++;
  int64_t live = (c.live_bytes += bytes_);
  int64_t peak = c.peak_bytes.load();
  while (live > peak && !c.peak_bytes.compare_exchange_weak(peak, live)) {
  }
  c.total_allocations++;
}

NativeBuffer::~NativeBuffer() { Release(); }

void NativeBuffer::Release() {
  if (released_) return;
  released_ = true;
  if (ptr_ != nullptr) {
    Backend* backend = backend_for(device_);
    if (backend != nullptr) backend->table->device_free(backend->ctx, ptr_);
    ptr_ = nullptr;
  }
  MemoryCounters& c = memory_counters(device_);
  c.live_buffers--;
  c.live_bytes -= bytes_;
}

Napi::Value NativeBuffer::Free(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value NativeBuffer::GetBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(bytes_));
}

Napi::Value NativeBuffer::GetDevice(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), device_);
}

Napi::Value NativeBuffer::GetFreed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), released_);
}

}  // namespace layerwise::binding
