// The C ABI that the CUDA backend library (layerwise_cuda.so) exports besides its kernel table:
// device discovery for `layerwise info` and `--device auto`, allocator statistics for memory(),
// emptyCache(), and the TF32 switch (--no-tf32). The core addon finds these with dlsym
// (native/binding/backend.cc); only plain C types cross, as for the table (status.h explains why).
#pragma once
#include <stdint.h>

#include "generated/kernel_table.h"

extern "C" {

struct LayerwiseCudaMemoryStats {
  int64_t allocated_bytes;       // bytes in blocks handed out and not yet freed
  int64_t peak_allocated_bytes;  // the most allocated_bytes has been
  int64_t reserved_bytes;        // bytes obtained from cudaMalloc and not yet released (allocated + cached)
  int64_t cached_bytes;          // bytes in free blocks the cache keeps for reuse
  int64_t num_allocs;            // allocations served
  int64_t num_cache_hits;        // ... of which from the cache
  int64_t num_device_mallocs;    // cudaMalloc calls
  int64_t num_device_frees;      // cudaFree calls (empty_cache, retries after out of memory)
};

struct LayerwiseCudaDeviceInfo {
  char name[256];
  int32_t major;  // compute capability
  int32_t minor;
  int64_t total_memory;
  int64_t free_memory;
  int32_t multiprocessors;
  int32_t driver_version;   // cudaDriverGetVersion, e.g. 13000
  int32_t runtime_version;  // cudaRuntimeGetVersion
  int32_t cudnn_version;    // cudnnGetVersion(), e.g. 92400
  int32_t cublaslt_version; // cublasLtGetVersion()
};

// Creates the backend on device `LAYERWISE_CUDA_DEVICE` (default 0): context, streams, handles,
// allocator. Returns 0 and sets *ctx and *table, or non-zero with the reason in error.
int layerwise_cuda_backend(void** ctx, const layerwise::KernelTable** table, char* error, int error_len);
// Devices visible, without creating a context; non-zero with the reason (no driver, ...) otherwise.
int layerwise_cuda_device_count(int32_t* count, char* error, int error_len);
int layerwise_cuda_device_info(int32_t device, LayerwiseCudaDeviceInfo* out, char* error, int error_len);
int layerwise_cuda_memory_stats(void* ctx, LayerwiseCudaMemoryStats* out);
// Returns every cached block to the driver (after synchronizing the streams).
int layerwise_cuda_empty_cache(void* ctx);
// allow != 0: float32 GEMMs and convolutions may use TF32 tensor cores (the default).
int layerwise_cuda_set_tf32(void* ctx, int32_t allow);
// Non-zero while the context is poisoned by a sticky CUDA error; its message in `error`.
int layerwise_cuda_sticky_error(void* ctx, char* error, int error_len);

}  // extern "C"
