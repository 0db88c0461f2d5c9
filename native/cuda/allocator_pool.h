// The bookkeeping of the CUDA caching allocator (allocator.h explains the design): size classes,
// best-fit lookup, splitting and merging of blocks inside cudaMalloc segments, statistics. No CUDA
// call here: allocator.cu obtains and releases the segments, and test/native/allocator-pool.test.ts
// checks this part on any machine (there is no GPU where the project is built).
#pragma once
#include <cstdint>
#include <set>
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
  // live; nullptr when none fits (then take_segment).
  void* take_cached(int64_t size) {
    auto& pool = pool_of(size <= kSmallSize);
    Block key{nullptr, size, size <= kSmallSize};
    auto it = pool.lower_bound(&key);
    if (it == pool.end()) return nullptr;
    Block* b = *it;
    pool.erase(it);
    stats.num_cache_hits++;
    return hand_out(b, size);
  }

  // Registers the new segment [ptr, ptr + bytes) (bytes = segment_size(size)) and takes `size`
  // bytes from its start.
  void* take_segment(char* ptr, int64_t bytes, int64_t size) {
    stats.reserved_bytes += bytes;
    stats.num_device_mallocs++;
    return hand_out(new Block{ptr, bytes, size <= kSmallSize}, size);
  }

  // Frees a live block, merging it with its free neighbours; false when `ptr` is not live.
  bool give_back(void* ptr) {
    auto found = live_.find(ptr);
    if (found == live_.end()) return false;
    Block* b = found->second;
    live_.erase(found);
    stats.allocated_bytes -= b->size;
    b->allocated = false;
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
    pool.insert(b);
    return true;
  }

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
  };
  struct BySize {
    bool operator()(const Block* a, const Block* b) const {
      return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
    }
  };

  std::set<Block*, BySize>& pool_of(bool small) { return small ? small_free_ : large_free_; }

  // Splits `b` (in no free set) to `size` when the rest is worth keeping (>= 512 B in the small
  // pool, > 1 MiB in the large one: smaller rests stay with the block), then makes it live.
  void* hand_out(Block* b, int64_t size) {
    const int64_t rest = b->size - size;
    if (b->small ? rest >= kMinBlock : rest > kSmallSize) {
      Block* tail = new Block{b->ptr + size, rest, b->small};
      tail->prev = b;
      tail->next = b->next;
      if (b->next != nullptr) b->next->prev = tail;
      b->next = tail;
      b->size = size;
      pool_of(b->small).insert(tail);
    }
    b->allocated = true;
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
};

}  // namespace layerwise::cuda
