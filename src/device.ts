// Devices: 'cpu' (always present, the core addon) and 'cuda' (the CUDA backend library, loaded on
// demand). The numeric ids are the ones the native binding uses.
import { DeviceError } from './errors';

export type Device = 'cpu' | 'cuda';

export const DEVICE_IDS: Readonly<Record<Device, number>> = { cpu: 0, cuda: 1 };

export function parseDevice(value: string): Device {
  if (value === 'cpu' || value === 'cuda') return value;
  throw new DeviceError(`unknown device '${value}' (expected 'cpu' or 'cuda')`, 'ERR_INVALID_ARGUMENT');
}
