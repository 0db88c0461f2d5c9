// Devices: 'cpu' (always present, the core addon) and 'cuda' (the CUDA backend library, loaded on
// demand). The numeric ids are the ones the native binding uses. `--device auto` picks cuda when
// the CUDA backend starts and has a device, else cpu, and says which it picked and why.
import { DeviceError } from './errors';
import { cudaStarted, cudaStickyError, probeCuda, startCuda } from './native/cuda-backend';

export type Device = 'cpu' | 'cuda';
/** What --device accepts. */
export type DeviceRequest = Device | 'auto';

export const DEVICE_IDS: Readonly<Record<Device, number>> = { cpu: 0, cuda: 1 };
export const DEVICE_CHOICES: readonly DeviceRequest[] = ['cpu', 'cuda', 'auto'];

export function parseDevice(value: string): DeviceRequest {
  if (value === 'cpu' || value === 'cuda' || value === 'auto') return value;
  throw new DeviceError(`unknown device '${value}' (expected 'cpu', 'cuda' or 'auto')`, 'ERR_INVALID_ARGUMENT');
}

/** The binding's id of `device`; starts the CUDA backend on first use of 'cuda'. */
export function deviceId(device: Device): number {
  if (device === 'cuda' && !cudaStarted()) startCuda();
  return DEVICE_IDS[device];
}

export interface ResolvedDevice {
  device: Device;
  requested: DeviceRequest;
  /** One line: which device and why ('cuda: NVIDIA H100 (9.0, 80 GiB)', 'cpu: auto found no CUDA: ...'). */
  note: string;
}

/** The device the backend runs on (LAYERWISE_CUDA_DEVICE, default 0, as native/cuda/api.h says). */
function describeCuda(): string {
  const index = Number(process.env.LAYERWISE_CUDA_DEVICE ?? 0);
  const d = probeCuda().devices.find((x) => x.index === index);
  return d ? `device ${index}, ${d.name} (compute ${d.computeCapability}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB)` : `device ${index}`;
}

/**
 * Resolves --device: 'cpu' as is; 'cuda' starts the CUDA backend (a DeviceError saying why when
 * it cannot); 'auto' tries CUDA and falls back to cpu, with the reason in `note`.
 */
export function resolveDevice(requested: DeviceRequest): ResolvedDevice {
  if (requested === 'cpu') return { device: 'cpu', requested, note: 'cpu (requested)' };
  if (requested === 'cuda') {
    startCuda();
    return { device: 'cuda', requested, note: `cuda: ${describeCuda()} (requested)` };
  }
  try {
    startCuda();
    return { device: 'cuda', requested, note: `cuda: ${describeCuda()} (auto: a CUDA device works)` };
  } catch (e) {
    return { device: 'cpu', requested, note: `cpu (auto: ${(e as Error).message})` };
  }
}

/**
 * Throws (code ERR_CUDA_STICKY) when a sticky CUDA error poisoned the context: device memory is
 * then unreadable or garbage, so `what` (e.g. 'checkpoint') must not be written from it.
 */
export function assertNoStickyError(what: string): void {
  const sticky = cudaStickyError();
  if (sticky !== null) {
    throw new DeviceError(`a sticky CUDA error stopped training; ${what} not written (the device state is lost; ` +
      `resume from the last checkpoint in a new process): ${sticky}`, 'ERR_CUDA_STICKY');
  }
}
