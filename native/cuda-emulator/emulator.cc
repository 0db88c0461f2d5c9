// layerwise_cuda_emulator.so: the CUDA backend's C ABI (native/cuda/api.h) served by the CPU
// backend, for tests on machines without a GPU. It is never shipped, and the default discovery
// (layerwise_cuda.so beside layerwise.node) never finds it:
// a test names it with LAYERWISE_CUDA_LIBRARY=build/Release/layerwise_cuda_emulator.so.
//
// What it checks that the CPU runs do not: every path the TypeScript takes for a device whose
// memory JS cannot read (uploads, downloads, eta and found_inf kept on the device, checkpoints of
// device state, memory().cuda, emptyCache, --no-tf32, `layerwise info`, the GPU test harness and
// scripts/gpu-check.sh), through the same dlopen/dlsym loading as layerwise_cuda.so. Like a GPU
// and unlike the CPU backend's allocator, memory handed out is never zero: every allocation is
// filled with 0xFF bytes (NaN in every float dtype, -1 in the integer ones), so code that reads
// memory it did not write gives NaN here as it would give garbage on a GPU. Allocation goes through
// the CUDA allocator's own bookkeeping (native/cuda/allocator_pool.h) over host segments, with a
// device size of LAYERWISE_CUDA_EMULATOR_MEMORY_MB (default 8192), so the caching, emptyCache and
// out-of-memory behaviour and statistics are the CUDA backend's.
//
// LAYERWISE_CUDA_EMULATOR_FAULT_AFTER_ALLOCS=N makes the context report a sticky error after N
// allocations (see Emulator). What it cannot check: the CUDA kernels themselves (the arithmetic is the CPU backend's), and
// asynchrony (every kernel completes before it returns).
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "backend.h"
#include "cuda/allocator_pool.h"
#include "cuda/api.h"

#define LW_EMULATOR_EXPORT extern "C" __attribute__((visibility("default")))

namespace layerwise::cuda_emulator {

using cuda::BlockPools;

constexpr int64_t kMaxRequest = int64_t{1} << 48;

struct Emulator {
  std::mutex mutex;
  BlockPools pools;
  int64_t device_bytes = 0;  // the emulated device's size
  bool allow_tf32 = true;    // recorded for `info`-style checks; the CPU arithmetic has no TF32
  void* cpu_ctx = nullptr;
  KernelTable table{};
  // LAYERWISE_CUDA_EMULATOR_FAULT_AFTER_ALLOCS=N: after N allocations the context reports a sticky
  // error, as a GPU whose earlier kernel faulted asynchronously (every call still succeeds), so
  // tests can check that training stops without writing a checkpoint of garbage state.
  int64_t fault_after_allocs = -1;
  int64_t allocs = 0;
};

Emulator& emulator() {
  static Emulator* e = [] {
    auto* made = new Emulator();
    const char* mb = std::getenv("LAYERWISE_CUDA_EMULATOR_MEMORY_MB");
    const long long value = mb != nullptr ? std::atoll(mb) : 0;
    made->device_bytes = (value > 0 ? value : 8192) * (int64_t{1} << 20);
    const char* fault = std::getenv("LAYERWISE_CUDA_EMULATOR_FAULT_AFTER_ALLOCS");
    if (fault != nullptr && *fault != '\0') made->fault_after_allocs = std::atoll(fault);
    return made;
  }();
  return *e;
}

// The CUDA allocator's message (native/cuda/allocator.cu), with the emulated device's sizes.
Status out_of_memory(const Emulator& e, int64_t asked, int64_t segment) {
  return Status::Error(StatusCode::kOutOfMemory, "alloc",
                       cuda::out_of_memory_message(asked, segment, e.device_bytes - e.pools.stats.reserved_bytes,
                                                   e.device_bytes, e.pools.stats));
}

void release_free_segments(Emulator& e) {
  e.pools.drop_free_segments([](void* ptr, int64_t bytes) {
    munmap(ptr, static_cast<size_t>(bytes));
    return true;
  });
}

// A host segment standing for cudaMalloc: over the device size, the cache is released and the
// request tried once more, as the CUDA allocator does.
char* map_segment(Emulator& e, int64_t bytes) {
  if (e.pools.stats.reserved_bytes + bytes > e.device_bytes) {
    release_free_segments(e);
    if (e.pools.stats.reserved_bytes + bytes > e.device_bytes) return nullptr;
  }
  void* p = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

Status device_alloc(void*, void** out, int64_t bytes) {
  Emulator& e = emulator();
  if (bytes < 0) return Status::Invalid("alloc", "negative allocation size " + std::to_string(bytes));
  std::lock_guard<std::mutex> lock(e.mutex);
  if (bytes > kMaxRequest) return out_of_memory(e, bytes, 0);
  try {
    const int64_t size = BlockPools::round_size(bytes);
    void* p = e.pools.take_cached(size);
    if (p == nullptr) {
      const int64_t segment = BlockPools::segment_size(size);
      char* base = map_segment(e, segment);
      if (base == nullptr) return out_of_memory(e, size, segment);
      p = e.pools.take_segment(base, segment, size);
    }
    std::memset(p, 0xFF, static_cast<size_t>(bytes));  // device memory is never zeroed for you
    e.allocs++;
    *out = p;
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, "alloc", "out of host memory for the allocator's bookkeeping");
  }
}

Status device_free(void*, void* ptr) {
  if (ptr == nullptr) return Status::Ok();
  Emulator& e = emulator();
  std::lock_guard<std::mutex> lock(e.mutex);
  if (!e.pools.give_back(ptr)) return Status::Invalid("free", "pointer not allocated by the emulated device");
  return Status::Ok();
}

// The CPU backend's table with the two memory entries replaced. The context handed to the binding
// is the CPU backend's own, so every other entry is called exactly as on the CPU.
const KernelTable* make_table() {
  Emulator& e = emulator();
  e.cpu_ctx = layerwise::cpu::create_context();
  e.table = *layerwise::cpu::kernel_table();
  e.table.device_alloc = &device_alloc;
  e.table.device_free = &device_free;
  return &e.table;
}

void copy_text(char* out, int len, const std::string& text) {
  if (out == nullptr || len <= 0) return;
  std::snprintf(out, static_cast<size_t>(len), "%s", text.c_str());
}

}  // namespace layerwise::cuda_emulator

using layerwise::cuda_emulator::emulator;


LW_EMULATOR_EXPORT int layerwise_cuda_backend(void** ctx, const layerwise::KernelTable** table, char*, int) {
  static const layerwise::KernelTable* made = layerwise::cuda_emulator::make_table();
  *ctx = emulator().cpu_ctx;
  *table = made;
  return 0;
}

LW_EMULATOR_EXPORT int layerwise_cuda_device_count(int32_t* count, char*, int) {
  *count = 1;
  return 0;
}

LW_EMULATOR_EXPORT int layerwise_cuda_device_info(int32_t device, LayerwiseCudaDeviceInfo* out, char* error, int error_len) {
  if (device != 0) {
    layerwise::cuda_emulator::copy_text(error, error_len, "device_info: the emulator has one device, 0");
    return 1;
  }
  auto& e = emulator();
  std::memset(out, 0, sizeof *out);
  layerwise::cuda_emulator::copy_text(out->name, sizeof out->name, "layerwise CUDA emulator (CPU backend, for tests)");
  out->major = 9;  // an sm_90 device as far as feature checks go (bf16, TF32)
  out->minor = 0;
  std::lock_guard<std::mutex> lock(e.mutex);
  out->total_memory = e.device_bytes;
  out->free_memory = e.device_bytes - e.pools.stats.reserved_bytes;
  out->multiprocessors = 1;
  return 0;
}

LW_EMULATOR_EXPORT int layerwise_cuda_memory_stats(void* ctx, LayerwiseCudaMemoryStats* out) {
  if (ctx == nullptr || out == nullptr) return 1;
  auto& e = emulator();
  std::lock_guard<std::mutex> lock(e.mutex);
  layerwise::cuda::export_stats(e.pools.stats, out);
  return 0;
}

LW_EMULATOR_EXPORT int layerwise_cuda_empty_cache(void* ctx) {
  if (ctx == nullptr) return 1;
  auto& e = emulator();
  std::lock_guard<std::mutex> lock(e.mutex);
  layerwise::cuda_emulator::release_free_segments(e);
  return 0;
}

LW_EMULATOR_EXPORT int layerwise_cuda_set_tf32(void* ctx, int32_t allow) {
  if (ctx == nullptr) return 1;
  emulator().allow_tf32 = allow != 0;
  return 0;
}

LW_EMULATOR_EXPORT int layerwise_cuda_sticky_error(void*, char* error, int error_len) {
  auto& e = emulator();
  std::lock_guard<std::mutex> lock(e.mutex);
  if (e.fault_after_allocs < 0 || e.allocs < e.fault_after_allocs) {
    layerwise::cuda_emulator::copy_text(error, error_len, "");
    return 0;
  }
  layerwise::cuda_emulator::copy_text(error, error_len,
      "cudaErrorIllegalAddress: an illegal memory access was encountered (emulated fault after " +
          std::to_string(e.fault_after_allocs) + " allocations)");
  return 1;
}
