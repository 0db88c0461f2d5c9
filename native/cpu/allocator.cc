// Caching allocator of the CPU backend (see allocator.h).
#include "cpu/allocator.h"

#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace layerwise::cpu {

namespace {

constexpr int64_t kMmapBytes = 1 << 20;

struct Block {
  int64_t size;  // rounded size
  void* base;    // what the system returned (malloc) or the mapping (mmap)
};

struct Cache {
  std::mutex mutex;
  std::unordered_map<void*, Block> live;                   // user pointer -> block
  std::unordered_map<int64_t, std::vector<void*>> free;    // rounded size -> user pointers
  std::unordered_map<void*, Block> free_blocks;            // user pointer -> block, while cached
  int64_t cached = 0;
  int64_t limit = -1;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: buffers may be freed during process exit
  return *c;
}

int64_t round_size(int64_t bytes) {
  if (bytes <= 0) return 64;
  if (bytes < 4096) return (bytes + 63) / 64 * 64;
  return (bytes + 4095) / 4096 * 4096;
}

int64_t cache_limit(Cache& c) {
  if (c.limit < 0) {
    const char* env = std::getenv("LAYERWISE_CPU_CACHE_MB");
    c.limit = (env != nullptr ? std::atoll(env) : 2048) * (int64_t{1} << 20);
  }
  return c.limit;
}

bool system_alloc(int64_t size, Block& block, void*& user) {
  if (size >= kMmapBytes) {
    void* p = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    block = Block{size, p};
    user = p;
    return true;
  }
  // malloc of a fixed size per rounded size (so freed blocks are reusable), aligned by hand.
  void* base = std::malloc(static_cast<size_t>(size + 64));
  if (base == nullptr) return false;
  block = Block{size, base};
  user = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(base) + 64) & ~uintptr_t{63});
  return true;
}

void system_free(const Block& block) {
  if (block.size >= kMmapBytes) munmap(block.base, static_cast<size_t>(block.size));
  else std::free(block.base);
}

// Releases cached blocks until at most `target` bytes stay cached. Caller holds the mutex.
void trim_locked(Cache& c, int64_t target) {
  for (auto it = c.free.begin(); it != c.free.end() && c.cached > target;) {
    auto& list = it->second;
    while (!list.empty() && c.cached > target) {
      void* user = list.back();
      list.pop_back();
      auto found = c.free_blocks.find(user);
      c.cached -= found->second.size;
      system_free(found->second);
      c.free_blocks.erase(found);
    }
    it = list.empty() ? c.free.erase(it) : std::next(it);
  }
}

}  // namespace

void* cached_alloc(int64_t bytes) {
  Cache& c = cache();
  const int64_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.free.find(size);
  if (it != c.free.end() && !it->second.empty()) {
    void* user = it->second.back();
    it->second.pop_back();
    auto found = c.free_blocks.find(user);
    c.live.emplace(user, found->second);
    c.free_blocks.erase(found);
    c.cached -= size;
    return user;
  }
  Block block{};
  void* user = nullptr;
  if (!system_alloc(size, block, user)) {
    trim_locked(c, 0);  // give everything cached back, then try once more
    if (!system_alloc(size, block, user)) return nullptr;
  }
  c.live.emplace(user, block);
  return user;
}

void cached_free(void* ptr) {
  if (ptr == nullptr) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.live.find(ptr);
  if (it == c.live.end()) return;  // not ours: ignore rather than corrupt the heap
  const Block block = it->second;
  c.live.erase(it);
  c.free[block.size].push_back(ptr);
  c.free_blocks.emplace(ptr, block);
  c.cached += block.size;
  if (c.cached > cache_limit(c)) trim_locked(c, cache_limit(c) / 2);
}

int64_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.cached;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  trim_locked(c, 0);
}

}  // namespace layerwise::cpu
