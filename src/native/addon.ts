// Loads the core addon (CPU backend, always present) with node-gyp-build (build/Release/, else
// prebuilds/<platform>-<arch>/) and registers the error class; exposes the typed kernels of
// kernels.h. LAYERWISE_ADDON=/path/to/layerwise.node overrides the location (side-by-side builds).
// The CUDA library is looked for beside whichever layerwise.node was loaded (cudaLibraryPath).
import * as path from 'node:path';
import { NativeError } from '../errors';
import type { Kernels } from './kernels.generated';

/** Element type names as the kernels take them (the same strings as Tensor's dtype). */
export type DTypeName = 'float32' | 'bfloat16' | 'float16' | 'int32' | 'uint8';

/** One block of device memory (host memory on the CPU backend). */
export interface NativeBuffer {
  readonly bytes: number;
  readonly device: number;
  readonly freed: boolean;
  free(): void;
}

export interface DeviceMemoryStats {
  liveBuffers: number;
  liveBytes: number;
  peakBytes: number;
  totalAllocations: number;
  /** Kernels that copied device memory to the host (toArray, item, ...) since the addon loaded. */
  deviceToHostReads: number;
}

/** The CUDA caching allocator's statistics (native/cuda/api.h LayerwiseCudaMemoryStats). */
export interface CudaAllocatorStats {
  allocatedBytes: number;
  peakAllocatedBytes: number;
  /** Bytes obtained from cudaMalloc and not released (allocated + cached). */
  reservedBytes: number;
  /** Bytes in free blocks the cache keeps for reuse. */
  cachedBytes: number;
  numAllocs: number;
  numCacheHits: number;
  numDeviceMallocs: number;
  numDeviceFrees: number;
}

export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** e.g. '9.0' */
  computeCapability: string;
  totalMemory: number;
  freeMemory: number;
  multiprocessors: number;
  /** e.g. 13000 for CUDA 13.0 */
  driverVersion: number;
  runtimeVersion: number;
  cudnnVersion: number;
  cublasLtVersion: number;
}

export interface CpuBackendInfo {
  /** OpenMP threads of the CPU kernels. */
  threads: number;
  blasThreads: number;
  /** 'OpenBLAS <its build configuration>' */
  blas: string;
  /** oneDNN version when the addon was built with it, else null. */
  onednn: string | null;
}

export interface Addon {
  NativeBuffer: new (device: number, bytes: number) => NativeBuffer;
  memoryStats(): { cpu: DeviceMemoryStats; cuda: DeviceMemoryStats };
  setErrorClass(ctor: new (message: string, code: string, op: string) => Error): void;
  /** Preloads `preload` (full paths), opens the CUDA library and creates its context. */
  loadCuda(libraryPath: string, preload?: string[]): void;
  /** Preloads and opens the CUDA library without creating a context (device queries only). */
  cudaOpen(libraryPath: string, preload?: string[]): void;
  /** Needs cudaOpen; throws ERR_DEVICE_UNAVAILABLE with the driver's reason when there is none. */
  cudaDevices(): CudaDeviceInfo[];
  /** null until loadCuda succeeded. */
  cudaMemoryStats(): CudaAllocatorStats | null;
  /** false when the CUDA backend is not loaded. */
  cudaEmptyCache(): boolean;
  cudaSetTf32(allow: boolean): void;
  /** The message of the sticky CUDA error that poisoned the context, else null. */
  cudaStickyError(): string | null;
  cpuInfo(): CpuBackendInfo;
  synchronize(device: number): void;
  kernels: Kernels;
}

/** The package root (the folder of package.json, build/ and prebuilds/). */
export const PACKAGE_ROOT = path.join(__dirname, '..', '..');

function resolveAddonPath(): string {
  const override = process.env.LAYERWISE_ADDON;
  if (override) return path.resolve(override);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node-gyp-build').resolve(PACKAGE_ROOT);
}

/** The layerwise.node that was loaded. */
export const addonPath: string = resolveAddonPath();

function load(): Addon {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon: Addon = require(addonPath);
  addon.setErrorClass(NativeError);
  return addon;
}

export const addon: Addon = load();

/** The CUDA backend library: LAYERWISE_CUDA_LIBRARY, else layerwise_cuda.so beside layerwise.node. */
export function cudaLibraryPath(env: NodeJS.ProcessEnv = process.env): { path: string; source: string } {
  const override = env.LAYERWISE_CUDA_LIBRARY;
  if (override) return { path: path.resolve(override), source: 'LAYERWISE_CUDA_LIBRARY' };
  return { path: path.join(path.dirname(addonPath), 'layerwise_cuda.so'), source: 'beside layerwise.node' };
}
export const kernels: Kernels = addon.kernels;
