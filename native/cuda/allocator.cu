// The CUDA backend's caching allocator and pinned staging ring; the design (size classes,
// best fit with splitting, why stream-ordered reuse needs no synchronization) is in allocator.h.
// Follows the CUDA Runtime API reference (cudaMalloc, cudaMemGetInfo, cudaHostAlloc,
// cudaEventRecord / cudaStreamWaitEvent: "Stream Management" and "Event Management") and the
// structure of PyTorch's c10/cuda/CUDACachingAllocator (blocks, pools, split and merge), much reduced.
#include "cuda/allocator.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <unordered_map>

namespace layerwise::cuda {

namespace {

constexpr int64_t kMinBlock = 512;             // block sizes are multiples of this
constexpr int64_t kSmallSize = 1 << 20;        // requests up to this size: small pool
constexpr int64_t kSmallSegment = 2 << 20;     // the small pool grows by segments of 2 MiB
constexpr int64_t kMediumRequest = 10 << 20;   // requests below this share 20 MiB segments
constexpr int64_t kMediumSegment = 20 << 20;
constexpr int64_t kSegmentRound = 2 << 20;     // larger segments: the request rounded up to 2 MiB
constexpr int kStagingSlots = 4;
constexpr int64_t kStagingBytes = 16 << 20;    // per pinned staging buffer
constexpr int64_t kStagingAlign = 256;

struct Block {
  char* ptr;
  int64_t size;
  bool small;             // pool
  bool allocated = false;
  Block* prev = nullptr;  // neighbours inside the same cudaMalloc segment
  Block* next = nullptr;
};

struct BySize {
  bool operator()(const Block* a, const Block* b) const {
    return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
  }
};

struct StagingSlot {
  char* host = nullptr;
  int64_t used = 0;
  cudaEvent_t done = nullptr;  // recorded on copy_stream after the last copy out of this buffer
  bool pending = false;
};

int64_t round_size(int64_t bytes) {
  if (bytes < kMinBlock) return kMinBlock;
  return (bytes + kMinBlock - 1) / kMinBlock * kMinBlock;
}

int64_t segment_size(int64_t size) {
  if (size <= kSmallSize) return kSmallSegment;
  if (size < kMediumRequest) return kMediumSegment;
  return (size + kSegmentRound - 1) / kSegmentRound * kSegmentRound;
}

std::string mib(int64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%lld bytes (%.1f MiB)", static_cast<long long>(bytes),
                static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

struct Allocator {
  std::mutex mutex;
  std::set<Block*, BySize> small_free, large_free;
  std::unordered_map<void*, Block*> live;
  LayerwiseCudaMemoryStats stats{};
  StagingSlot slots[kStagingSlots];
  int slot = 0;
  cudaEvent_t compute_tail = nullptr;  // recorded on ctx.stream before each staged copy

  std::set<Block*, BySize>& pool(bool small) { return small ? small_free : large_free; }
};

namespace {

// Returns every wholly free segment to the driver (after synchronizing both streams, as freed
// blocks may still be in use by queued work). Caller holds the mutex.
Status release_cached(Context& ctx, Allocator& a, const char* op) {
  LW_CUDA_TRY(ctx, op, cudaStreamSynchronize(ctx.stream));
  LW_CUDA_TRY(ctx, op, cudaStreamSynchronize(ctx.copy_stream));
  for (auto* free_set : {&a.small_free, &a.large_free}) {
    for (auto it = free_set->begin(); it != free_set->end();) {
      Block* b = *it;
      if (b->prev != nullptr || b->next != nullptr) {
        ++it;
        continue;
      }
      LW_CUDA_TRY(ctx, op, cudaFree(b->ptr));
      a.stats.reserved_bytes -= b->size;
      a.stats.num_device_frees++;
      it = free_set->erase(it);
      delete b;
    }
  }
  return Status::Ok();
}

// A new segment for a block of `size` bytes: cudaMalloc, then once more after releasing the cache.
Status new_segment(Context& ctx, Allocator& a, const char* op, int64_t size, bool small, Block** out) {
  const int64_t bytes = segment_size(size);
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, static_cast<size_t>(bytes));
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky: clear it before retrying
    LW_STATUS_TRY(release_cached(ctx, a, op));
    err = cudaMalloc(&ptr, static_cast<size_t>(bytes));
  }
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    (void)cudaGetLastError();
    return Status::Error(StatusCode::kOutOfMemory, op,
                         "out of device memory: asked " + mib(size) + " (a segment of " + mib(bytes) + "), free " +
                             mib(static_cast<int64_t>(free_bytes)) + " of " + mib(static_cast<int64_t>(total_bytes)) +
                             " on the device, the cache holds " + mib(a.stats.reserved_bytes) + " (" +
                             mib(a.stats.allocated_bytes) + " allocated)");
  }
  LW_STATUS_TRY(cuda_status(ctx, op, err, "cudaMalloc"));
  a.stats.reserved_bytes += bytes;
  a.stats.num_device_mallocs++;
  *out = new Block{static_cast<char*>(ptr), bytes, small};
  return Status::Ok();
}

// Splits `b` (not in a free set) so that it keeps `size` bytes; the rest goes to the free set.
void split(Allocator& a, Block* b, int64_t size) {
  const int64_t rest = b->size - size;
  if (b->small ? rest < kMinBlock : rest <= kSmallSize) return;
  Block* tail = new Block{b->ptr + size, rest, b->small};
  tail->prev = b;
  tail->next = b->next;
  if (b->next != nullptr) b->next->prev = tail;
  b->next = tail;
  b->size = size;
  a.pool(b->small).insert(tail);
}

}  // namespace

Status allocator_create(Context& ctx) {
  auto* a = new (std::nothrow) Allocator();
  if (a == nullptr) return Status::Error(StatusCode::kOutOfMemory, "cuda_backend", "cannot allocate the allocator");
  const cudaError_t err = cudaEventCreateWithFlags(&a->compute_tail, cudaEventDisableTiming);
  if (err != cudaSuccess) {
    delete a;
    return cuda_status(ctx, "cuda_backend", err, "cudaEventCreateWithFlags");
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
  try {
    const int64_t size = round_size(bytes);
    const bool small = size <= kSmallSize;
    auto& pool = a.pool(small);
    Block key{nullptr, size, small};
    auto it = pool.lower_bound(&key);
    Block* b = nullptr;
    if (it != pool.end()) {
      b = *it;
      pool.erase(it);
      a.stats.num_cache_hits++;
    } else {
      LW_STATUS_TRY(new_segment(ctx, a, op, size, small, &b));
    }
    split(a, b, size);
    b->allocated = true;
    a.live[b->ptr] = b;
    a.stats.allocated_bytes += b->size;
    if (a.stats.allocated_bytes > a.stats.peak_allocated_bytes) a.stats.peak_allocated_bytes = a.stats.allocated_bytes;
    a.stats.num_allocs++;
    *out = b->ptr;
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kOutOfMemory, op, "out of host memory for the allocator's bookkeeping");
  }
}

bool allocator_free(Context& ctx, void* ptr) {
  if (ctx.allocator == nullptr) return false;
  Allocator& a = *ctx.allocator;
  std::lock_guard<std::mutex> lock(a.mutex);
  auto found = a.live.find(ptr);
  if (found == a.live.end()) return false;
  Block* b = found->second;
  a.live.erase(found);
  a.stats.allocated_bytes -= b->size;
  b->allocated = false;
  auto& pool = a.pool(b->small);
  // Merge with free neighbours of the same segment.
  if (b->prev != nullptr && !b->prev->allocated) {
    Block* p = b->prev;
    pool.erase(p);
    p->size += b->size;
    p->next = b->next;
    if (b->next != nullptr) b->next->prev = p;
    delete b;
    b = p;
  }
  if (b->next != nullptr && !b->next->allocated) {
    Block* n = b->next;
    pool.erase(n);
    b->size += n->size;
    b->next = n->next;
    if (n->next != nullptr) n->next->prev = b;
    delete n;
  }
  pool.insert(b);
  return true;
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
  *out = a.stats;
  out->cached_bytes = a.stats.reserved_bytes - a.stats.allocated_bytes;
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
  LW_STATUS_TRY(check_context(ctx, op));
  if (bytes <= 0) return Status::Ok();
  if (ctx.allocator == nullptr) return Status::Invalid(op, "the CUDA context has no allocator");
  Allocator& a = *ctx.allocator;
  std::lock_guard<std::mutex> lock(a.mutex);
  // dst may be a block whose previous owner's kernels are still queued on ctx.stream: the copy
  // stream starts after them (this gives up overlapping the copy with work queued before it).
  LW_CUDA_TRY(ctx, op, cudaEventRecord(a.compute_tail, ctx.stream));
  LW_CUDA_TRY(ctx, op, cudaStreamWaitEvent(ctx.copy_stream, a.compute_tail, 0));
  const auto* src = static_cast<const uint8_t*>(host_src);
  StagingSlot* last = nullptr;
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
  // Kernels enqueued from now on run after the copy.
  LW_CUDA_TRY(ctx, op, cudaStreamWaitEvent(ctx.stream, last->done, 0));
  return Status::Ok();
}

}  // namespace layerwise::cuda
