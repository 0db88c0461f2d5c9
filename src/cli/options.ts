// Parsers for command-line values: each error names the option and what it accepts (commander
// turns InvalidArgumentError into "error: option '--lr <x>' argument 'abc' is invalid. ...").
import { InvalidArgumentError, type Command } from 'commander';
import { DEVICE_CHOICES, resolveDevice, type Device, type DeviceRequest } from '../device';
import { setTf32 } from '../native/cuda-backend';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer.');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a finite number >= 0.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

/** --probe-steps / --steps: a positive integer, 'epoch' or 'auto'. */
export function probeSteps(value: string): number | 'epoch' | 'auto' {
  if (value === 'epoch' || value === 'auto') return value;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer, 'epoch' or 'auto'.");
  return n;
}

/** A number strictly between 0 and 1. */
export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number in (0, 1) such as 0.005.');
  return n;
}

export function betas(value: string): [number, number] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 2 || !parts.every((b) => b >= 0 && b < 1)) throw new InvalidArgumentError("expected two numbers in [0, 1) such as '0.9,0.999'.");
  return [parts[0], parts[1]];
}

export function choice(allowed: readonly string[]) {
  return (value: string): string => {
    if (!allowed.includes(value)) throw new InvalidArgumentError(`expected one of: ${allowed.join(', ')}.`);
    return value;
  };
}

/** --device (cpu, cuda, auto) and --no-tf32: train, probe and eval share them. */
export function addDeviceOptions(cmd: Command, defaultDevice: string = 'cpu'): Command {
  return cmd
    .option('--device <d>', `cpu, cuda, or auto (cuda when a CUDA device works, else cpu; it says which) (default: ${defaultDevice})`, choice(DEVICE_CHOICES))
    .option('--no-tf32', 'CUDA: float32 matmuls and convolutions without TF32 tensor cores (TF32 is allowed by default)');
}

/**
 * Resolves --device (`requested`, or `fallback` when the option was not given) and applies
 * --no-tf32 on cuda. Prints which device it picked and why on stderr when the choice involved
 * CUDA. Returns the device for the run's config.
 */
export function applyDeviceOptions(requested: DeviceRequest | undefined, tf32: boolean | undefined, fallback: Device): Device {
  const r = resolveDevice(requested ?? fallback);
  if (r.requested !== 'cpu') console.error(`layerwise: device ${r.note}`);
  if (r.device === 'cuda') setTf32(tf32 !== false);
  return r.device;
}

/** --crop-fraction: a number in (0, 1]. */
export function cropFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= 1)) throw new InvalidArgumentError('expected a number in (0, 1] such as 0.875.');
  return n;
}
