// Drives the CUDA caching allocator's bookkeeping (native/cuda/allocator_pool.h) on the host with
// fake segment addresses, for test/native/allocator-pool.test.ts: a few exact scenarios, then a
// seeded random run that checks the invariants after every step. Prints one JSON object.
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cuda/allocator_pool.h"

using layerwise::cuda::BlockPools;
using layerwise::cuda::CopyOrder;
using layerwise::cuda::CopyWait;
using layerwise::cuda::FenceRing;

namespace {

constexpr int64_t MiB = 1 << 20;

// Fake device: segments at increasing addresses with gaps, so blocks of two segments never touch.
struct FakeDevice {
  uintptr_t next = uintptr_t{1} << 40;
  std::map<uintptr_t, int64_t> segments;  // start -> bytes
  char* malloc(int64_t bytes) {
    const uintptr_t at = next;
    next += static_cast<uintptr_t>(bytes) + 64 * MiB;
    segments[at] = bytes;
    return reinterpret_cast<char*>(at);
  }
};

struct Run {
  BlockPools pools;
  FakeDevice device;
  // Offset of the block from the start of its segment, and the segment's index in creation order.
  void* alloc(int64_t bytes, uint64_t stamp = 0) {
    const int64_t size = BlockPools::round_size(bytes);
    void* p = pools.take_cached(size, stamp);
    if (p == nullptr) {
      const int64_t seg = BlockPools::segment_size(size);
      p = pools.take_segment(device.malloc(seg), seg, size, stamp);
    }
    return p;
  }
  std::string where(void* p) {
    const auto addr = reinterpret_cast<uintptr_t>(p);
    int index = 0;
    for (const auto& [start, bytes] : device.segments) {
      if (addr >= start && addr < start + static_cast<uintptr_t>(bytes))
        return "[" + std::to_string(index) + "," + std::to_string(addr - start) + "]";
      index++;
    }
    return "null";
  }
  int64_t drop() {
    int64_t dropped = 0;
    pools.drop_free_segments([&](void* ptr, int64_t bytes) {
      auto found = device.segments.find(reinterpret_cast<uintptr_t>(ptr));
      if (found == device.segments.end() || found->second != bytes) return false;
      device.segments.erase(found);
      dropped++;
      return true;
    });
    return dropped;
  }
};

std::string stats_json(const BlockPools& p) {
  const auto& s = p.stats;
  char text[400];
  std::snprintf(text, sizeof text,
                "{\"allocated\":%lld,\"peak\":%lld,\"reserved\":%lld,\"allocs\":%lld,\"hits\":%lld,\"mallocs\":%lld,\"frees\":%lld}",
                (long long)s.allocated_bytes, (long long)s.peak_allocated_bytes, (long long)s.reserved_bytes,
                (long long)s.num_allocs, (long long)s.num_cache_hits, (long long)s.num_device_mallocs,
                (long long)s.num_device_frees);
  return text;
}

std::string sizes_json() {
  std::string out = "{\"round\":[";
  for (int64_t b : {int64_t{0}, int64_t{1}, int64_t{512}, int64_t{513}, int64_t{1000000}}) out += std::to_string(BlockPools::round_size(b)) + ",";
  out.back() = ']';
  out += ",\"segment\":[";
  for (int64_t b : {int64_t{512}, MiB, MiB + 512, 10 * MiB - 512, 10 * MiB, 10 * MiB + 512})
    out += std::to_string(BlockPools::segment_size(b)) + ",";
  out.back() = ']';
  return out + "}";
}

// Small pool: split, best-fit reuse of a freed block, merge back into one segment.
std::string small_json() {
  Run r;
  void* a = r.alloc(1000);
  void* b = r.alloc(1000);
  void* c = r.alloc(100);
  std::string out = "{\"a\":" + r.where(a) + ",\"b\":" + r.where(b) + ",\"c\":" + r.where(c);
  const bool freed = r.pools.give_back(b);
  const bool twice = r.pools.give_back(b);
  void* d = r.alloc(600);  // best fit: b's 1024 bytes, not the segment's tail
  out += ",\"freed\":" + std::string(freed ? "true" : "false") + ",\"twice\":" + (twice ? "true" : "false");
  out += ",\"d\":" + r.where(d) + ",\"after\":" + stats_json(r.pools);
  r.pools.give_back(a);
  r.pools.give_back(d);
  const int64_t kept = r.drop();  // c is live: the segment stays
  r.pools.give_back(c);
  const int64_t dropped = r.drop();
  out += ",\"kept\":" + std::to_string(kept) + ",\"dropped\":" + std::to_string(dropped) + ",\"end\":" + stats_json(r.pools);
  return out + "}";
}

// Large pool: medium requests share a 20 MiB segment (split, best fit), big ones get their own
// segment rounded to 2 MiB, and a rest of at most 1 MiB stays with its block.
std::string large_json() {
  Run r;
  void* a = r.alloc(3 * MiB);
  void* b = r.alloc(3 * MiB);
  void* c = r.alloc(12 * MiB);
  void* d = r.alloc(17 * MiB + MiB / 2);  // an 18 MiB segment; the 0.5 MiB rest stays with the block
  void* e = r.alloc(14 * MiB);            // the rest of a's segment
  std::string out = "{\"a\":" + r.where(a) + ",\"b\":" + r.where(b) + ",\"c\":" + r.where(c) + ",\"d\":" + r.where(d) +
                    ",\"e\":" + r.where(e) + ",\"stats\":" + stats_json(r.pools);
  for (void* p : {a, b, c, d, e}) r.pools.give_back(p);
  const int64_t dropped = r.drop();
  out += ",\"dropped\":" + std::to_string(dropped) + ",\"end\":" + stats_json(r.pools);
  return out + "}";
}

// Seeded random allocations and frees; after every step: live blocks disjoint, inside a segment,
// at least the request and a multiple of 512; allocated and reserved equal the sums.
std::string stress_json(int steps) {
  Run r;
  uint64_t state = 12345;
  auto next = [&]() { state = state * 6364136223846793005ULL + 1442695040888963407ULL; return state >> 33; };
  std::map<uintptr_t, std::pair<int64_t, int64_t>> live;  // address -> (request, rounded)
  std::vector<std::string> violations;
  auto check = [&](const std::string& what) {
    if (violations.size() < 5) violations.push_back(what);
  };
  for (int step = 0; step < steps; step++) {
    if (live.empty() || next() % 100 < 55) {
      const int64_t bytes = static_cast<int64_t>(1) << (next() % 26);  // 1 B .. 32 MiB, log-uniform
      const int64_t request = bytes + static_cast<int64_t>(next() % static_cast<uint64_t>(bytes));
      const auto addr = reinterpret_cast<uintptr_t>(r.alloc(request));
      const int64_t rounded = BlockPools::round_size(request);
      auto after = live.lower_bound(addr);
      if (after != live.end() && addr + static_cast<uintptr_t>(rounded) > after->first) check("overlaps the next live block");
      if (after != live.begin()) {
        auto before = std::prev(after);
        if (before->first + static_cast<uintptr_t>(before->second.second) > addr) check("overlaps the previous live block");
      }
      auto seg = r.device.segments.upper_bound(addr);
      if (seg == r.device.segments.begin()) check("below every segment");
      else {
        --seg;
        if (addr + static_cast<uintptr_t>(rounded) > seg->first + static_cast<uintptr_t>(seg->second)) check("outside its segment");
        if ((addr - seg->first) % 512 != 0) check("not 512-aligned in its segment");
      }
      live[addr] = {request, rounded};
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(next() % live.size()));
      if (!r.pools.give_back(reinterpret_cast<void*>(it->first))) check("a live block was refused");
      live.erase(it);
    }
    int64_t reserved = 0;
    for (const auto& [start, bytes] : r.device.segments) reserved += bytes;
    if (reserved != r.pools.stats.reserved_bytes) check("reserved differs from the segments");
    int64_t at_least = 0;
    for (const auto& [addr, sizes] : live) at_least += sizes.second;
    if (r.pools.stats.allocated_bytes < at_least) check("allocated below the live blocks");
  }
  const int64_t mid_hits = r.pools.stats.num_cache_hits;
  for (const auto& [addr, sizes] : live) r.pools.give_back(reinterpret_cast<void*>(addr));
  const int64_t segments = static_cast<int64_t>(r.device.segments.size());
  const int64_t dropped = r.drop();
  std::string out = "{\"violations\":[";
  for (const auto& v : violations) out += "\"" + v + "\",";
  if (!violations.empty()) out.pop_back();
  out += "],\"hits\":" + std::to_string(mid_hits) + ",\"segments\":" + std::to_string(segments) +
         ",\"dropped\":" + std::to_string(dropped) + ",\"end\":" + stats_json(r.pools) + "}";
  return out;
}

std::string order_json(const CopyOrder& o) {
  const char* wait = o.wait == CopyWait::kNone ? "none" : o.wait == CopyWait::kAll ? "all" : "after";
  return "[\"" + std::string(wait) + "\"," + std::to_string(o.after_free) + "]";
}

// Copy ordering (allocator_pool.h): what a host-to-device copy into a block waits for.
std::string copy_json() {
  Run r;
  std::string out = "{";
  auto add = [&](const char* name, const std::string& value) { out += std::string(out.size() > 1 ? "," : "") + "\"" + name + "\":" + value; };
  void* a = r.alloc(4096, 5);                                 // fresh segment memory, stamp 5
  add("fresh", order_json(r.pools.copy_order(a, 4096, 5)));     // never used: no wait
  add("used", order_json(r.pools.copy_order(a, 4096, 6)));      // a kernel ran since: wait for all
  add("inside", order_json(r.pools.copy_order(static_cast<char*>(a) + 512, 512, 5)));
  add("past_end", order_json(r.pools.copy_order(a, 4097, 5)));
  int unknown = 0;
  add("unknown", order_json(r.pools.copy_order(&unknown, 4, 5)));
  r.pools.give_back(a);                                         // free number 1
  void* b = r.alloc(1024, 7);                                   // a's memory again
  add("reused", order_json(r.pools.copy_order(b, 1024, 7)));    // after free 1
  void* c = r.alloc(2048, 7);                                   // the split rest of a's block keeps free 1
  add("rest", order_json(r.pools.copy_order(c, 2048, 7)));
  r.pools.give_back(b);                                         // 2
  r.pools.give_back(c);                                         // 3: merged with b's and the segment's tail
  void* d = r.alloc(1 << 19, 8);
  add("merged", order_json(r.pools.copy_order(d, 1 << 19, 8)));
  add("clock", std::to_string(r.pools.free_clock()));
  // The ring: records at clocks 0, 3, 3, 7 (slots 0..3 of 4), then one more at 9 into slot 0.
  FenceRing<4> ring;
  for (uint64_t clock : {0, 3, 3, 7}) ring.recorded(clock);
  add("find", "[" + std::to_string(ring.find(0)) + "," + std::to_string(ring.find(1)) + "," + std::to_string(ring.find(4)) +
                  "," + std::to_string(ring.find(8)) + "]");
  const int next = ring.next();
  ring.recorded(9);
  add("wrapped", "[" + std::to_string(next) + "," + std::to_string(ring.find(0)) + "," + std::to_string(ring.find(8)) + "]");
  return out + "}";
}

}  // namespace

int main() {
  std::printf("{\"sizes\":%s,\"small\":%s,\"large\":%s,\"stress\":%s,\"copy\":%s}\n", sizes_json().c_str(),
              small_json().c_str(), large_json().c_str(), stress_json(20000).c_str(), copy_json().c_str());
  return 0;
}
