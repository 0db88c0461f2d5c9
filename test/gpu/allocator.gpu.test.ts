// The CUDA caching allocator: freed blocks are reused for the same sizes (a training step's
// pattern), emptyCache returns them to the driver, and an allocation larger than the device gives
// ERR_NATIVE_OUT_OF_MEMORY naming the bytes asked, the bytes free and what the cache holds, after which
// the process goes on allocating and computing.
import { describe, expect, test } from 'vitest';
import { addon } from '../../src/native/addon';
import { cudaAllocatorStats, cudaEmptyCache } from '../../src/native/cuda-backend';
import { CUDA, gpu } from './cuda';

const available = gpu();
const MiB = 1 << 20;

describe.skipIf(!available.ok)(`CUDA caching allocator (${available.reason})`, () => {
  test('blocks of a repeated size come from the cache', () => {
    const sizes = [3 * MiB, 512, 64 * 1024, 20 * MiB + 17];
    const warm = sizes.map((s) => new addon.NativeBuffer(CUDA, s));
    for (const b of warm) b.free();
    const before = cudaAllocatorStats()!;
    for (let round = 0; round < 10; round++) {
      const bufs = sizes.map((s) => new addon.NativeBuffer(CUDA, s));
      for (const b of bufs) b.free();
    }
    const after = cudaAllocatorStats()!;
    expect(after.numAllocs - before.numAllocs).toBe(40);
    expect(after.numCacheHits - before.numCacheHits).toBe(40);
    expect(after.numDeviceMallocs).toBe(before.numDeviceMallocs);
    expect(after.allocatedBytes).toBe(before.allocatedBytes);
  });

  test('emptyCache returns the cached blocks to the driver', () => {
    const b = new addon.NativeBuffer(CUDA, 64 * MiB);
    b.free();
    expect(cudaAllocatorStats()!.cachedBytes).toBeGreaterThanOrEqual(64 * MiB);
    expect(cudaEmptyCache()).toBe(true);
    const s = cudaAllocatorStats()!;
    expect(s.cachedBytes).toBe(0);
    expect(s.reservedBytes).toBe(s.allocatedBytes);
  });

  test('a too-large allocation is ERR_NATIVE_OUT_OF_MEMORY with the sizes, and the process goes on', () => {
    const held = new addon.NativeBuffer(CUDA, 8 * MiB);
    held.free();
    let error: (Error & { code?: string; op?: string }) | null = null;
    try {
      new addon.NativeBuffer(CUDA, 2 ** 50);
    } catch (e) {
      error = e as Error & { code?: string; op?: string };
    }
    expect(error).not.toBeNull();
    expect(error!.code).toBe('ERR_NATIVE_OUT_OF_MEMORY');
    expect(error!.message).toMatch(/1125899906842624/);
    expect(error!.message).toMatch(/free/);
    expect(error!.message).toMatch(/cache/);
    // Still usable: allocate, fill, read back.
    const b = new addon.NativeBuffer(CUDA, 4 * 1000);
    addon.kernels.fill(b, 'float32', 2.5, 1000);
    const out = new Float32Array(1000);
    addon.kernels.copy_to_host(out, b, out.byteLength);
    b.free();
    expect(out.every((v) => v === 2.5)).toBe(true);
  });
});
