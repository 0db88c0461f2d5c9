// The device arrays of per-tensor learning-rate multipliers that the fused steps read (sgd_step /
// adamw_step's lr_scales: lr_t = lr * lr_scales[t]). An optimizer holds a few, keyed by their exact
// float32 content and device: a step whose multipliers did not change (the usual case: eta is
// fixed for a run and schedules move the scalar lr) reuses its array without any host-to-device
// copy; a changed one is written into the least recently used array of the same length.
import type { Device } from '../device';
import { keep } from '../memory';
import type { NativeBuffer } from '../native/addon';
import { Tensor } from '../tensor';

interface Entry {
  /** Allocation order (mark() / discardSince()). */
  serial: number;
  device: Device;
  values: Float32Array;
  tensor: Tensor;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

export class LrScaleCache {
  /** Most recently used first. */
  private entries: Entry[] = [];
  private serial = 0;

  /** At most `capacity` arrays are kept (an optimizer steps in one or two tensor subsets). */
  constructor(private readonly capacity = 4) {}

  /** A device float32 array holding `scales` (one element at least, so that an empty list has a buffer). */
  get(scales: readonly number[], device: Device): NativeBuffer {
    const values = Float32Array.from(scales.length > 0 ? scales : [1]);
    const hit = this.entries.findIndex((e) => e.device === device && sameValues(e.values, values));
    if (hit >= 0) {
      const [e] = this.entries.splice(hit, 1);
      this.entries.unshift(e);
      return e.tensor.buffer;
    }
    let entry: Entry | undefined;
    if (this.entries.length >= this.capacity) {
      const old = this.entries.pop()!;
      if (old.device === device && old.values.length === values.length) entry = old;
      else old.tensor.dispose();
    }
    if (entry === undefined) {
      entry = { serial: ++this.serial, device, values, tensor: keep(Tensor.empty([values.length], { device })) };
    }
    try {
      entry.tensor.copyFromHost(values);
    } catch (e) {
      entry.tensor.dispose();
      throw e;
    }
    entry.values = values;
    this.entries.unshift(entry);
    return entry.tensor.buffer;
  }

  /** A mark for discardSince(): arrays allocated after it are the new ones. */
  mark(): number {
    return this.serial;
  }

  /** Disposes the arrays allocated after `mark` (a failed step keeps no new buffer). */
  discardSince(mark: number): void {
    for (const e of this.entries) if (e.serial > mark) e.tensor.dispose();
    this.entries = this.entries.filter((e) => e.serial <= mark);
  }

  dispose(): void {
    for (const e of this.entries) e.tensor.dispose();
    this.entries = [];
  }
}
