// The CPU backend's caching allocator (device_alloc / device_free in copy.cc). A training step
// frees and re-allocates the same sizes every step; reusing those blocks avoids page faults on
// fresh memory and the heap fragmentation that aligned allocations cause in glibc (a freed
// memalign block is never large enough for the next memalign of the same size, so every step
// would strand one block per tensor). Blocks are 64-byte aligned; sizes are rounded up (to 64
// bytes below 4 KiB, to 4 KiB above); blocks of 1 MiB and more come from mmap and go back to the
// system when the cache is trimmed. The cache holds at most LAYERWISE_CPU_CACHE_MB (default 2048)
// of free blocks.
#pragma once
#include <cstdint>

namespace layerwise::cpu {

void* cached_alloc(int64_t bytes);   // nullptr when out of memory
void cached_free(void* ptr);
int64_t cached_bytes();              // bytes held in the cache (free blocks)
void empty_cache();                  // returns every cached block to the system

}  // namespace layerwise::cpu
