// Whether the GPU suite can run here: the CUDA backend library, the CUDA libraries it needs and a
// device (src/native/cuda-backend.ts). Without them every GPU test file skips, and says so loudly
// with the reason, so a run on a machine without a GPU is never mistaken for a pass.
import { probeCuda, startCuda } from '../../src/native/cuda-backend';

export interface GpuAvailability {
  ok: boolean;
  reason: string;
}

let availability: GpuAvailability | null = null;

/** Probes and starts the CUDA backend once per test file. */
export function gpu(): GpuAvailability {
  if (availability) return availability;
  const probe = probeCuda();
  if (!probe.available) {
    availability = { ok: false, reason: probe.reason ?? 'unknown' };
  } else {
    try {
      startCuda();
      const d = probe.devices[0];
      availability = { ok: true, reason: `${d?.name ?? 'device 0'} (compute ${d?.computeCapability ?? '?'})` };
    } catch (e) {
      availability = { ok: false, reason: (e as Error).message };
    }
  }
  if (!availability.ok) {
    process.stderr.write(`\n*** GPU TESTS SKIPPED: ${availability.reason} ***\n\n`);
  }
  return availability;
}

export const CUDA = 1;
