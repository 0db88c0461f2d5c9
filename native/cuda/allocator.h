// The CUDA backend's caching allocator (allocator.cu), in the style of PyTorch's
// CUDACachingAllocator, simplified to one stream:
//   * Block sizes are multiples of 512 B. Requests up to 1 MiB come from the small pool, whose
//     cudaMalloc segments are 2 MiB; larger ones from the large pool, whose segments are 20 MiB
//     for requests below 10 MiB and the request rounded up to 2 MiB otherwise.
//   * A request takes the smallest free block that fits (best fit, a set ordered by size), which is
//     split when the rest is worth keeping (>= 512 B in the small pool, > 1 MiB in the large one);
//     a freed block merges with its free neighbours of the same segment.
//   * Stream-ordered reuse: every kernel runs on ctx.stream, so the work that used a block was
//     enqueued before the host freed it, and whatever the block's next owner enqueues comes after
//     it on the same stream: the GPU runs them in that order, and a freed block can be handed out
//     again at once, without waiting.
//   * Host-to-device copies run on ctx.copy_stream (staged_copy_to_device). ctx.stream waits for
//     each copy before its later kernels. The copy itself waits only for the compute work that
//     used its destination's memory: nothing for memory fresh from cudaMalloc, the work enqueued
//     before the memory's last free for a block handed out since no kernel ran, and everything
//     queued for a block that kernels may have used (allocator_pool.h, "Copy ordering": per-block
//     free numbers and a ring of compute-stream events, one recorded per copy). So the next
//     batch's copy overlaps the current step's kernels.
//   * cudaMalloc failing: synchronize both streams, return every wholly free segment to the driver,
//     retry once; then kOutOfMemory with the bytes asked, free and total on the device, and what
//     the cache holds.
//   * Pinned staging for copy_from_host: a ring of 4 pinned host buffers of 16 MiB, allocated on
//     first use; copies are packed into the current buffer, and a buffer is refilled only after
//     the event recorded after its last copy has completed.
// A mutex guards the state (the binding calls from the JS main thread only, but it costs nothing).
// The block bookkeeping (no CUDA calls) is allocator_pool.h, tested on the host.
#pragma once
#include <cstdint>

#include "cuda/api.h"
#include "cuda/context.h"

namespace layerwise::cuda {

// Creates ctx.allocator (ctx.stream and ctx.copy_stream must exist).
Status allocator_create(Context& ctx);
// Frees a block of scratch_alloc / device_alloc; false when `ptr` is not a live block.
bool allocator_free(Context& ctx, void* ptr);
// Statistics for layerwise_cuda_memory_stats.
void allocator_stats(Context& ctx, LayerwiseCudaMemoryStats* out);
// Synchronizes both streams and returns every wholly free segment to the driver.
Status allocator_empty_cache(Context& ctx, const char* op);

// dst (device) = host_src[0, bytes), asynchronously: the host bytes are copied into pinned staging
// memory before this returns (so the caller may reuse them at once), then DMA'd on ctx.copy_stream
// after the compute work that used dst's memory (above); ctx.stream waits for the copy before later
// kernels. dst is best the start of a block of this allocator: any other pointer waits for all
// queued compute work.
Status staged_copy_to_device(Context& ctx, const char* op, uint8_t* dst, const void* host_src, int64_t bytes);

}  // namespace layerwise::cuda
