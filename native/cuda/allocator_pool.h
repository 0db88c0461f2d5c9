// The bookkeeping of the CUDA caching allocator (allocator.h explains the design): size classes,
// best-fit lookup, splitting and merging of blocks inside cudaMalloc segments, statistics, and what
// a host-to-device copy into a block must wait for (copy_order, FenceRing). No CUDA call here:
// allocator.cu obtains and releases the segments and records the events, and
// test/native/allocator-pool.test.ts checks this part on any machine.
//
// Copy ordering. Host-to-device copies run on the copy stream, kernels on the compute stream, and a
// copy must not overwrite memory that kernels enqueued before it still use. Every host free gets a
// number from a clock (1, 2, ...); a free block remembers the number of the last free that put
// memory into it (`freed_at`: a merged block takes the newest, split parts keep it; memory fresh
// from cudaMalloc has 0). A block handed out keeps its memory's `freed_at` and the caller's `stamp`
// (the context's work counter, which every kernel entry and checked CUDA call advances). Then for a
// copy into a live block:
//   * the stamp moved since the hand-out: kernels may have used the block itself: wait for all
//     work enqueued so far (kAll); likewise for a pointer inside a block or a range past its end;
//   * freed_at == 0: no kernel ever used this memory: no wait (kNone);
//   * otherwise the kernels that used the memory were enqueued before free number freed_at: wait for
//     a compute-stream event recorded after that free (kAfterFree): FenceRing keeps the last events
//     recorded (one per staged copy) with the clock at their recording, and find() gives the oldest
//     one recorded after the free, so the copy overlaps everything enqueued after that event.
#pragma once
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <unordered_map>

namespace layerwise::cuda {

struct PoolStats {
  int64_t allocated_bytes = 0;  // sizes of the live blocks (rounded)
  int64_t peak_allocated_bytes = 0;
  int64_t reserved_bytes = 0;   // sizes of the segments held
  int64_t num_allocs = 0;
  int64_t num_cache_hits = 0;
  int64_t num_device_mallocs = 0;
  int64_t num_device_frees = 0;
};

// The statistics as api.h's LayerwiseCudaMemoryStats (a template, so this header needs no CUDA
// header): shared by the CUDA allocator and the emulator (native/cuda-emulator).
template <typename Out>
void export_stats(const PoolStats& s, Out* out) {
  out->allocated_bytes = s.allocated_bytes;
  out->peak_allocated_bytes = s.peak_allocated_bytes;
  out->reserved_bytes = s.reserved_bytes;
  out->cached_bytes = s.reserved_bytes - s.allocated_bytes;
  out->num_allocs = s.num_allocs;
  out->num_cache_hits = s.num_cache_hits;
  out->num_device_mallocs = s.num_device_mallocs;
  out->num_device_frees = s.num_device_frees;
}

// "N bytes (X MiB)".
inline std::string bytes_and_mib(int64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%lld bytes (%.1f MiB)", static_cast<long long>(bytes),
                static_cast<double>(bytes) / (1 << 20));
  return text;
}

// The out-of-memory message: the bytes asked (and the segment tried, when > 0), the device's free
// and total memory and what the cache holds. Shared by the CUDA allocator and the emulator.
inline std::string out_of_memory_message(int64_t asked, int64_t segment, int64_t free_bytes, int64_t total_bytes,
                                         const PoolStats& s) {
  return "out of device memory: asked " + bytes_and_mib(asked) +
         (segment > 0 ? " (a segment of " + bytes_and_mib(segment) + ")" : std::string()) + ", free " +
         bytes_and_mib(free_bytes) + " of " + bytes_and_mib(total_bytes) + " on the device, the cache holds " +
         bytes_and_mib(s.reserved_bytes) + " (" + bytes_and_mib(s.allocated_bytes) + " allocated)";
}

enum class CopyWait { kNone, kAfterFree, kAll };
struct CopyOrder {
  CopyWait wait;
  uint64_t after_free;  // kAfterFree: the number of the free whose users the copy must follow
};

class BlockPools {
 public:
  static constexpr int64_t kMinBlock = 512;            // block sizes are multiples of this
  static constexpr int64_t kSmallSize = 1 << 20;       // rounded requests up to this: small pool
  static constexpr int64_t kSmallSegment = 2 << 20;    // small-pool segments
  static constexpr int64_t kMediumRequest = 10 << 20;  // large requests below this share 20 MiB segments
  static constexpr int64_t kMediumSegment = 20 << 20;
  static constexpr int64_t kSegmentRound = 2 << 20;    // larger segments: the request rounded up to 2 MiB

  static int64_t round_size(int64_t bytes) {
    return bytes < kMinBlock ? kMinBlock : (bytes + kMinBlock - 1) / kMinBlock * kMinBlock;
  }
  // The cudaMalloc size for a rounded request that no cached block serves.
  static int64_t segment_size(int64_t size) {
    if (size <= kSmallSize) return kSmallSegment;
    if (size < kMediumRequest) return kMediumSegment;
    return (size + kSegmentRound - 1) / kSegmentRound * kSegmentRound;
  }

  BlockPools() = default;
  BlockPools(const BlockPools&) = delete;
  BlockPools& operator=(const BlockPools&) = delete;
  ~BlockPools() {
    for (auto* set : {&small_free_, &large_free_})
      for (Block* b : *set) delete b;
    for (auto& entry : live_) delete entry.second;
  }

  // The smallest free block of the pool of `size` (rounded) that fits, split to `size` and now
  // live with `stamp` (see copy_order); nullptr when none fits (then take_segment).
  void* take_cached(int64_t size, uint64_t stamp = 0) {
    auto& pool = pool_of(size <= kSmallSize);
    Block key{nullptr, size, size <= kSmallSize};
    auto it = pool.lower_bound(&key);
    if (it == pool.end()) return nullptr;
    Block* b = *it;
    pool.erase(it);
    stats.num_cache_hits++;
    return hand_out(b, size, stamp);
  }

  // Registers the new segment [ptr, ptr + bytes) (bytes = segment_size(size)) and takes `size`
  // bytes from its start.
  void* take_segment(char* ptr, int64_t bytes, int64_t size, uint64_t stamp = 0) {
    stats.reserved_bytes += bytes;
    stats.num_device_mallocs++;
    return hand_out(new Block{ptr, bytes, size <= kSmallSize}, size, stamp);
  }

  // Frees a live block, merging it with its free neighbours; false when `ptr` is not live.
  bool give_back(void* ptr) {
    auto found = live_.find(ptr);
    if (found == live_.end()) return false;
    Block* b = found->second;
    live_.erase(found);
    stats.allocated_bytes -= b->size;
    b->allocated = false;
    const uint64_t now = ++free_clock_;
    auto& pool = pool_of(b->small);
    if (b->prev != nullptr && !b->prev->allocated) {
      Block* p = b->prev;
      pool.erase(p);  // before its size changes: the set is ordered by size
      p->size += b->size;
      unlink(b);
      b = p;
    }
    if (b->next != nullptr && !b->next->allocated) {
      Block* n = b->next;
      pool.erase(n);
      b->size += n->size;
      unlink(n);
    }
    b->freed_at = now;  // the merged block's memory was last used before this free
    pool.insert(b);
    return true;
  }

  // What a copy of `bytes` into `ptr` waits for, given the caller's stamp now (the header comment).
  CopyOrder copy_order(const void* ptr, int64_t bytes, uint64_t stamp_now) const {
    auto found = live_.find(const_cast<void*>(ptr));
    if (found == live_.end() || bytes > found->second->size || found->second->stamp != stamp_now)
      return CopyOrder{CopyWait::kAll, 0};
    const uint64_t freed_at = found->second->freed_at;
    return freed_at == 0 ? CopyOrder{CopyWait::kNone, 0} : CopyOrder{CopyWait::kAfterFree, freed_at};
  }

  // The number of the latest free (0 before any).
  uint64_t free_clock() const { return free_clock_; }

  // Removes every wholly free segment, calling release(ptr, bytes) for each (the cudaFree);
  // stops at the first that returns false (that segment is kept).
  template <typename Release>
  bool drop_free_segments(Release&& release) {
    for (auto* set : {&small_free_, &large_free_}) {
      for (auto it = set->begin(); it != set->end();) {
        Block* b = *it;
        if (b->prev != nullptr || b->next != nullptr) {
          ++it;
          continue;
        }
        if (!release(static_cast<void*>(b->ptr), b->size)) return false;
        stats.reserved_bytes -= b->size;
        stats.num_device_frees++;
        it = set->erase(it);
        delete b;
      }
    }
    return true;
  }

  PoolStats stats;

 private:
  struct Block {
    char* ptr;
    int64_t size;
    bool small;             // which pool
    bool allocated = false;
    Block* prev = nullptr;  // neighbours inside the same segment
    Block* next = nullptr;
    uint64_t freed_at = 0;  // the last free that put memory into this block (0: never used)
    uint64_t stamp = 0;     // live blocks: the caller's stamp at the hand-out
  };
  struct BySize {
    bool operator()(const Block* a, const Block* b) const {
      return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
    }
  };

  std::set<Block*, BySize>& pool_of(bool small) { return small ? small_free_ : large_free_; }

  // Splits `b` (in no free set) to `size` when the rest is worth keeping (>= 512 B in the small
  // pool, > 1 MiB in the large one: smaller rests stay with the block), then makes it live.
  void* hand_out(Block* b, int64_t size, uint64_t stamp) {
    const int64_t rest = b->size - size;
    if (b->small ? rest >= kMinBlock : rest > kSmallSize) {
      Block* tail = new Block{b->ptr + size, rest, b->small};
      tail->freed_at = b->freed_at;
      tail->prev = b;
      tail->next = b->next;
      if (b->next != nullptr) b->next->prev = tail;
      b->next = tail;
      b->size = size;
      pool_of(b->small).insert(tail);
    }
    b->allocated = true;
    b->stamp = stamp;
    live_[b->ptr] = b;
    stats.allocated_bytes += b->size;
    if (stats.allocated_bytes > stats.peak_allocated_bytes) stats.peak_allocated_bytes = stats.allocated_bytes;
    stats.num_allocs++;
    return b->ptr;
  }

  // Takes `b` (already merged into its predecessor) out of its segment's list and deletes it.
  static void unlink(Block* b) {
    if (b->prev != nullptr) b->prev->next = b->next;
    if (b->next != nullptr) b->next->prev = b->prev;
    delete b;
  }

  std::set<Block*, BySize> small_free_, large_free_;
  std::unordered_map<void*, Block*> live_;
  uint64_t free_clock_ = 0;
};

// The last N compute-stream events a copy may wait on, as slots of the caller's event array: a
// record goes into slot next() and is committed with recorded(clock), clock being free_clock() at
// the recording. Records are committed in order, so their clocks never decrease.
template <int N>
class FenceRing {
 public:
  int next() const { return head_; }
  void recorded(uint64_t clock) {
    clock_[head_] = clock;
    head_ = (head_ + 1) % N;
    if (count_ < N) count_++;
  }
  // The oldest surviving record made after free number `after_free`, or -1 when there is none.
  // (Records overwritten since were older still, so any surviving later one also follows the free.)
  int find(uint64_t after_free) const {
    for (int k = 0; k < count_; k++) {
      const int slot = (head_ + N - count_ + k) % N;
      if (clock_[slot] >= after_free) return slot;
    }
    return -1;
  }

 private:
  uint64_t clock_[N] = {};
  int head_ = 0;
  int count_ = 0;
};

}  // namespace layerwise::cuda
