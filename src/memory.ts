// Deterministic memory management: tensors created inside scope(fn) are disposed when fn returns,
// except those it returns or marks with keep(). Native buffers are reference counted (Storage) so
// views (reshape, detach) share memory and the last dispose frees it. memory() reports the
// native live-buffer counts that the tests hold flat over training steps, and (with CUDA started)
// the CUDA caching allocator's statistics; emptyCache() returns its cached blocks to the driver.
import { addon, type CudaAllocatorStats, type NativeBuffer } from './native/addon';
import { cudaAllocatorStats, cudaEmptyCache } from './native/cuda-backend';

/** Reference-counted owner of one NativeBuffer, shared by a tensor and its views. */
export class Storage {
  private refs = 1;
  constructor(readonly buffer: NativeBuffer) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.buffer.free();
  }
}

export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Registers a newly created tensor with the innermost scope, if any. */
export function track(t: Disposable): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Removes a tensor from every open scope so that it outlives them. */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collectReturned(value: unknown, out: Set<Disposable>): void {
  if (value === null || typeof value !== 'object') return;
  if (typeof (value as Disposable).dispose === 'function' && 'disposed' in (value as object)) {
    out.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectReturned(v, out);
  else if (value.constructor === Object) for (const v of Object.values(value)) collectReturned(v, out);
}

/**
 * Runs fn; every tensor created during it is disposed afterwards unless returned (directly, or in
 * an array / plain object) or kept. Returned tensors move to the enclosing scope.
 */
export function scope<T>(fn: () => T): T {
  const mine = new Set<Disposable>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const returned = new Set<Disposable>();
  collectReturned(result, returned);
  for (const t of mine) {
    if (returned.has(t)) track(t);
    else if (!t.disposed) t.dispose();
  }
  return result;
}

export interface MemoryInfo {
  /** Native buffers alive on the CPU backend. */
  liveBuffers: number;
  liveBytes: number;
  peakBytes: number;
  /** Device-to-host reads (toArray, item, ...) on any device since the addon loaded. */
  deviceToHostReads: number;
  cuda: {
    liveBuffers: number;
    liveBytes: number;
    peakBytes: number;
    /** The caching allocator (reserved = allocated + cached bytes), null while CUDA is not started. */
    allocator: CudaAllocatorStats | null;
  };
}

export function memory(): MemoryInfo {
  const s = addon.memoryStats();
  return {
    liveBuffers: s.cpu.liveBuffers,
    liveBytes: s.cpu.liveBytes,
    peakBytes: s.cpu.peakBytes,
    deviceToHostReads: s.cpu.deviceToHostReads + s.cuda.deviceToHostReads,
    cuda: { liveBuffers: s.cuda.liveBuffers, liveBytes: s.cuda.liveBytes, peakBytes: s.cuda.peakBytes, allocator: cudaAllocatorStats() },
  };
}

/**
 * Returns the CUDA allocator's cached (free) blocks to the driver, as torch.cuda.empty_cache();
 * live tensors are untouched. False when CUDA is not started (nothing is cached).
 */
export function emptyCache(): boolean {
  return cudaEmptyCache();
}
