// The CUDA backend's life in this process: finding its library and the CUDA libraries it needs,
// opening it (enough to list devices, for `layerwise info` and `--device auto`), starting it
// (context, streams, handles: loadCuda), and the switches and queries that need it started (TF32,
// allocator statistics, emptyCache, the sticky-error flag). Every failure says what was looked
// for and where.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DeviceError } from '../errors';
import { addon, cudaLibraryPath, type CudaAllocatorStats, type CudaDeviceInfo } from './addon';
import { findCudaLibraries, missingLibrariesMessage, type CudaLibrarySearch } from './cuda-libraries';

export interface CudaProbe {
  /** The library was opened and at least one device answered. */
  available: boolean;
  /** Why not, when not available. */
  reason: string | null;
  library: { path: string; source: string; exists: boolean };
  libraries: CudaLibrarySearch | null;
  devices: CudaDeviceInfo[];
}

/** A native error's message without its 'op: ' prefix (the op is the binding function here). */
function reasonOf(e: unknown): string {
  const err = e as Error & { op?: string };
  return err.op && err.message.startsWith(`${err.op}: `) ? err.message.slice(err.op.length + 2) : err.message;
}

/**
 * The CUDA emulator (native/cuda-emulator): the CUDA backend's C ABI over the CPU backend, for tests
 * without a GPU. It needs no CUDA library, so none is looked for when it is the library named.
 */
export const CUDA_EMULATOR_FILE = 'layerwise_cuda_emulator.so';

let probed: CudaProbe | null = null;
let started = false;

/** Opens the CUDA library (no context) and lists the devices; the result is kept for the process. */
export function probeCuda(): CudaProbe {
  if (probed) return probed;
  const lib = cudaLibraryPath();
  const library = { ...lib, exists: existsSync(lib.path) };
  const search = path.basename(lib.path) === CUDA_EMULATOR_FILE ? null : findCudaLibraries();
  const result: CudaProbe = { available: false, reason: null, library, libraries: search, devices: [] };
  const problems: string[] = [];
  if (!library.exists) {
    problems.push(`the CUDA backend library ${lib.path} (${lib.source}) does not exist: build the CUDA backend, ` +
      'install a prebuilt package, or set LAYERWISE_CUDA_LIBRARY');
  }
  if (search && search.missing.length > 0) problems.push(missingLibrariesMessage(search));
  if (problems.length > 0) {
    result.reason = problems.join('; and ');
    return (probed = result);
  }
  try {
    addon.cudaOpen(lib.path, search?.preload ?? []);
    result.devices = addon.cudaDevices();
  } catch (e) {
    result.reason = reasonOf(e);
    return (probed = result);
  }
  if (result.devices.length === 0) result.reason = 'the CUDA driver reports no devices';
  else result.available = true;
  return (probed = result);
}

/** Starts the CUDA backend (once); throws a DeviceError ERR_DEVICE_UNAVAILABLE saying why not. */
export function startCuda(): void {
  if (started) return;
  const p = probeCuda();
  if (!p.available) throw new DeviceError(`CUDA backend unavailable: ${p.reason}`, 'ERR_DEVICE_UNAVAILABLE');
  try {
    addon.loadCuda(p.library.path, p.libraries?.preload ?? []);
  } catch (e) {
    throw new DeviceError(`CUDA backend unavailable: ${reasonOf(e)}`, 'ERR_DEVICE_UNAVAILABLE');
  }
  started = true;
}

export function cudaStarted(): boolean {
  return started;
}

/** TF32 for float32 GEMMs and convolutions (on by default in the backend); starts CUDA. */
export function setTf32(allow: boolean): void {
  startCuda();
  addon.cudaSetTf32(allow);
}

/** The CUDA caching allocator's statistics, or null while CUDA is not started. */
export function cudaAllocatorStats(): CudaAllocatorStats | null {
  return started ? addon.cudaMemoryStats() : null;
}

/** Returns the cached CUDA blocks to the driver; false when CUDA is not started. */
export function cudaEmptyCache(): boolean {
  return started ? addon.cudaEmptyCache() : false;
}

type StickyProbe = () => string | null;
const nativeSticky: StickyProbe = () => (started ? addon.cudaStickyError() : null);
let stickyProbe: StickyProbe = nativeSticky;

/** The sticky CUDA error that poisoned the context (every later CUDA call fails), else null. */
export function cudaStickyError(): string | null {
  return stickyProbe();
}

/** Tests: replaces the sticky-error query (null restores the native one). */
export function setStickyErrorProbeForTests(probe: StickyProbe | null): void {
  stickyProbe = probe ?? nativeSticky;
}
