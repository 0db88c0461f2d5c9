// NativeBuffer: the JS handle of one block of device memory (host memory for the CPU backend).
// Memory is released deterministically by free() (Tensor.dispose in TS); the finalizer is only a
// safety net. Live-buffer counts and bytes per device are kept for memory() and the tests.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>

namespace layerwise::binding {

struct MemoryCounters {
  std::atomic<int64_t> live_buffers{0};
  std::atomic<int64_t> live_bytes{0};
  std::atomic<int64_t> peak_bytes{0};
  std::atomic<int64_t> total_allocations{0};
  std::atomic<int64_t> device_to_host_reads{0};  // kernels that copied device memory to the host
};

MemoryCounters& memory_counters(int device);

class NativeBuffer : public Napi::ObjectWrap<NativeBuffer> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::FunctionReference* constructor;
  static bool IsInstance(Napi::Value value);

  explicit NativeBuffer(const Napi::CallbackInfo& info);
  ~NativeBuffer() override;

  void* ptr() const { return ptr_; }
  int64_t bytes() const { return bytes_; }
  int device() const { return device_; }
  bool freed() const { return released_; }

 private:
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value GetBytes(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetFreed(const Napi::CallbackInfo& info);
  void Release();

  void* ptr_ = nullptr;
  int64_t bytes_ = 0;
  int device_ = 0;
  bool released_ = false;
};

}  // namespace layerwise::binding
