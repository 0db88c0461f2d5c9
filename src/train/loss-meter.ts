// The training loss kept on the device between log points: each micro-batch's loss is added to a
// device sum by accumulate_loss, which also remembers the first step whose loss was NaN or
// infinite, so a training step reads nothing back. flush() (at log points, epoch ends and before
// checkpoints) reads the last step's loss, the sum since the previous flush and the first
// non-finite step: three one-element reads.
import { kernels } from '../native/addon';
import type { Device } from '../device';
import { Tensor } from '../tensor';

export interface LossFlush {
  /** The last optimizer step's loss (mean over its micro-batches). */
  lastStep: number;
  /** Sum of the step losses since the previous flush, and how many steps that was. */
  sum: number;
  steps: number;
  /** The first step (1-based) with a non-finite loss, or null. */
  firstNonFinite: number | null;
}

export class DeviceLossMeter {
  private readonly step: Tensor;
  private readonly interval: Tensor;
  private readonly firstBad: Tensor;
  private steps = 0;

  constructor(device: Device) {
    this.step = Tensor.zeros([1], { device });
    this.interval = Tensor.zeros([1], { device });
    this.firstBad = Tensor.full([1], -1, { dtype: 'int32', device });
  }

  /** Starts an optimizer step: its loss sum begins at 0. */
  beginStep(): void {
    kernels.fill(this.step.buffer, 'float32', 0, 1);
  }

  /** Adds one micro-batch's share of the step loss (a float32 scalar) for step `step` (1-based). */
  add(loss: Tensor, step: number): void {
    kernels.accumulate_loss(this.step.buffer, this.firstBad.buffer, loss.bufferFor('loss meter'), step);
  }

  /** Ends an optimizer step: its loss joins the sum since the last flush. */
  endStep(): void {
    kernels.add_forward(this.interval.buffer, this.interval.buffer, this.step.buffer, 'float32', 1, 1, 1);
    this.steps++;
  }

  /** Reads what was accumulated since the previous flush and starts a new interval. */
  flush(): LossFlush {
    const bad = this.firstBad.item();
    const out = { lastStep: this.step.item(), sum: this.interval.item(), steps: this.steps, firstNonFinite: bad >= 0 ? bad : null };
    kernels.fill(this.interval.buffer, 'float32', 0, 1);
    this.steps = 0;
    return out;
  }

  dispose(): void {
    this.step.dispose();
    this.interval.dispose();
    this.firstBad.dispose();
  }
}
