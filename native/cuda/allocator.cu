// The CUDA backend's caching allocator and pinned staging ring; the design (size classes,
// best fit with splitting, why stream-ordered reuse needs no synchronization) is in allocator.h,
// the block bookkeeping in allocator_pool.h (host-only, tested without a GPU).
// Follows the CUDA Runtime API reference (cudaMalloc, cudaMemGetInfo, cudaHostAlloc,
// cudaEventRecord / cudaStreamWaitEvent: "Stream Management" and "Event Management") and the
// structure of PyTorch's c10/cuda/CUDACachingAllocator (blocks, pools, split and merge), much reduced.
#include "cuda/allocator.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "cuda/allocator_pool.h"

namespace layerwise::cuda {

namespace {

constexpr int64_t kMaxRequest = int64_t{1} << 48;  // beyond any device; keeps the rounding from overflowing
constexpr int kStagingSlots = 4;
constexpr int64_t kStagingBytes = 16 << 20;    // per pinned staging buffer
constexpr int64_t kStagingAlign = 256;
constexpr int kFenceSlots = 16;  // compute-stream events a copy may wait on (allocator_pool.h)

struct StagingSlot {
  char* host = nullptr;
  int64_t used = 0;
  cudaEvent_t done = nullptr;  // recorded on copy_stream after the last copy out of this buffer
  bool pending = false;
};

}  // namespace

struct Allocator {
  std::mutex mutex;
  BlockPools pools;
  StagingSlot slots[kStagingSlots];
  int slot = 0;
  FenceRing<kFenceSlots> fences;       // which of fence_events were recorded after which free
  cudaEvent_t fence_events[kFenceSlots] = {};  // recorded on ctx.stream, one per staged copy
};

namespace {

// Returns every wholly free segment to the driver (after synchronizing both streams, as freed
// blocks may still be in use by queued work). Caller holds the mutex.
Status release_cached(Context& ctx, Allocator& a, const char* op) {
  LW_CUDA_TRY(ctx, op, cudaStreamSynchronize(ctx.stream));
  LW_CUDA_TRY(ctx, op, cudaStreamSynchronize(ctx.copy_stream));
  Status st = Status::Ok();
  a.pools.drop_free_segments([&](void* ptr, int64_t) {
    st = cuda_status(ctx, op, cudaFree(ptr), "cudaFree");
    return st.ok();
  });
  return st;
}

// kOutOfMemory naming the bytes asked (and the segment tried), the device's free and total memory
// and what the cache holds.
Status out_of_memory(Allocator& a, const char* op, int64_t asked, int64_t segment) {
  size_t free_bytes = 0, total_bytes = 0;
  (void)cudaMemGetInfo(&free_bytes, &total_bytes);
  (void)cudaGetLastError();
  return Status::Error(StatusCode::kOutOfMemory, op,
                       out_of_memory_message(asked, segment, static_cast<int64_t>(free_bytes),
                                             static_cast<int64_t>(total_bytes), a.pools.stats));
}

// A new segment for `size` (rounded) bytes, taken from its start: cudaMalloc, and once more after
// releasing the cache when the device is full.
Status take_new_segment(Context& ctx, Allocator& a, const char* op, int64_t size, void** out) {
  const int64_t bytes = BlockPools::segment_size(size);
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, static_cast<size_t>(bytes));
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky: clear it before retrying
    LW_STATUS_TRY(release_cached(ctx, a, op));
    err = cudaMalloc(&ptr, static_cast<size_t>(bytes));
  }
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return out_of_memory(a, op, size, bytes);
  }
  LW_STATUS_TRY(cuda_status(ctx, op, err, "cudaMalloc"));
  *out = a.pools.take_segment(static_cast<char*>(ptr), bytes, size, ctx.work_serial);
  return Status::Ok();
}

}  // namespace

Status allocator_create(Context& ctx) {
  auto* a = new (std::nothrow) Allocator();
  if (a == nullptr) return Status::Error(StatusCode::kOutOfMemory, "cuda_backend", "cannot allocate the allocator");
  for (cudaEvent_t& event : a->fence_events) {
    const cudaError_t err = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
    if (err != cudaSuccess) {
      for (cudaEvent_t made : a->fence_events)
        if (made != nullptr) (void)cudaEventDestroy(made);
      delete a;
      return cuda_status(ctx, "cuda_backend", err, "cudaEventCreateWithFlags");
    }
  }
  ctx.allocator = a;
  return Status::Ok();
}

Status scratch_alloc(Context& ctx, const char* op, void** out, int64_t bytes) {
  LW_STATUS_TRY(check_context(ctx, op));
  if (bytes < 0) return Status::Invalid(op, "negative allocation size " + std::to_string(bytes));
  if (ctx.allocator == nullptr) return Status::Invalid(op, "the CUDA context has no allocator");
  Allocator& a = *ctx.allocator;
  std::lock_guard<std::mutex> lock(a.mutex);
  if (bytes > kMaxRequest) return out_of_memory(a, op, bytes, 0);
  try {
    const int64_t size = BlockPools::round_size(bytes);
    *out = a.pools.take_cached(size, ctx.work_serial);
    if (*out == nullptr) LW_STATUS_TRY(take_new_segment(ctx, a, op, size, out));
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "out of host memory for the allocator's bookkeeping");
  }
}

bool allocator_free(Context& ctx, void* ptr) {
  if (ctx.allocator == nullptr) return false;
  Allocator& a = *ctx.allocator;
  std::lock_guard<std::mutex> lock(a.mutex);
  return a.pools.give_back(ptr);
}

void scratch_free(Context& ctx, void* ptr) {
  if (ptr != nullptr) (void)allocator_free(ctx, ptr);
}

void allocator_stats(Context& ctx, LayerwiseCudaMemoryStats* out) {
  if (ctx.allocator == nullptr) {
    std::memset(out, 0, sizeof *out);
    return;
  }
  Allocator& a = *ctx.allocator;
  std::lock_guard<std::mutex> lock(a.mutex);
  export_stats(a.pools.stats, out);
}

Status allocator_empty_cache(Context& ctx, const char* op) {
  LW_STATUS_TRY(check_context(ctx, op));
  if (ctx.allocator == nullptr) return Status::Ok();
  std::lock_guard<std::mutex> lock(ctx.allocator->mutex);
  return release_cached(ctx, *ctx.allocator, op);
}

// Packs each piece (at most kStagingBytes) into the current pinned buffer, moving to the next one
// in the ring when it is full and waiting for that buffer's last copy before overwriting it.
Status staged_copy_to_device(Context& ctx, const char* op, uint8_t* dst, const void* host_src, int64_t bytes) {
  const uint64_t serial = ctx.work_serial;  // before the checked calls below advance it
  LW_STATUS_TRY(check_context(ctx, op));
  if (bytes <= 0) return Status::Ok();
  if (ctx.allocator == nullptr) return Status::Invalid(op, "the CUDA context has no allocator");
  Allocator& a = *ctx.allocator;
  std::lock_guard<std::mutex> lock(a.mutex);
  // The copy stream waits only for the compute work that used dst's memory (allocator_pool.h,
  // "Copy ordering"). Each copy records a fence first, which later copies may wait on instead.
  const int fence = a.fences.next();
  LW_CUDA_TRY(ctx, op, cudaEventRecord(a.fence_events[fence], ctx.stream));
  a.fences.recorded(a.pools.free_clock());
  const CopyOrder order = a.pools.copy_order(dst, bytes, serial);
  const int wait = order.wait == CopyWait::kAll         ? fence
                   : order.wait == CopyWait::kAfterFree ? a.fences.find(order.after_free)
                                                        : -1;
  if (wait >= 0) LW_CUDA_TRY(ctx, op, cudaStreamWaitEvent(ctx.copy_stream, a.fence_events[wait], 0));
  const auto* src = static_cast<const uint8_t*>(host_src);
  StagingSlot* last = nullptr;
  auto pieces = [&]() -> Status {
    for (int64_t offset = 0; offset < bytes;) {
      const int64_t piece = bytes - offset < kStagingBytes ? bytes - offset : kStagingBytes;
      StagingSlot* s = &a.slots[a.slot];
      if (s->used + piece > kStagingBytes) {
        a.slot = (a.slot + 1) % kStagingSlots;
        s = &a.slots[a.slot];
        if (s->pending) LW_CUDA_TRY(ctx, op, cudaEventSynchronize(s->done));
        s->pending = false;
        s->used = 0;
      }
      if (s->done == nullptr) LW_CUDA_TRY(ctx, op, cudaEventCreateWithFlags(&s->done, cudaEventDisableTiming));
      if (s->host == nullptr)
        LW_CUDA_TRY(ctx, op, cudaHostAlloc(reinterpret_cast<void**>(&s->host), kStagingBytes, cudaHostAllocDefault));
      char* staging = s->host + s->used;
      std::memcpy(staging, src + offset, static_cast<size_t>(piece));
      LW_CUDA_TRY(ctx, op, cudaMemcpyAsync(dst + offset, staging, static_cast<size_t>(piece), cudaMemcpyHostToDevice,
                                           ctx.copy_stream));
      LW_CUDA_TRY(ctx, op, cudaEventRecord(s->done, ctx.copy_stream));
      s->pending = true;
      s->used += (piece + kStagingAlign - 1) / kStagingAlign * kStagingAlign;
      offset += piece;
      last = s;
    }
    return Status::Ok();
  };
  const Status st = pieces();
  // Kernels enqueued from now on run after the copy; also after a failure part way, so that no
  // kernel (or the block's next owner) races the pieces already in flight.
  if (last != nullptr) {
    const Status fence = cuda_status(ctx, op, cudaStreamWaitEvent(ctx.stream, last->done, 0), "cudaStreamWaitEvent");
    if (st.ok()) return fence;
  }
  return st;
}

}  // namespace layerwise::cuda
