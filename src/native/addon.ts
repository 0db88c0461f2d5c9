// Loads the core addon (CPU backend, always present) with node-gyp-build and registers the error
// class; exposes the typed kernels of kernels.h. LAYERWISE_ADDON=/path/to/layerwise.node
// overrides the location (used for side-by-side builds).
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

export interface Addon {
  NativeBuffer: new (device: number, bytes: number) => NativeBuffer;
  memoryStats(): { cpu: DeviceMemoryStats; cuda: DeviceMemoryStats };
  setErrorClass(ctor: new (message: string, code: string, op: string) => Error): void;
  loadCuda(libraryPath: string): void;
  synchronize(device: number): void;
  kernels: Kernels;
}

function load(): Addon {
  const override = process.env.LAYERWISE_ADDON;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon: Addon = override ? require(path.resolve(override)) : require('node-gyp-build')(path.join(__dirname, '..', '..'));
  addon.setErrorClass(NativeError);
  return addon;
}

export const addon: Addon = load();
export const kernels: Kernels = addon.kernels;
