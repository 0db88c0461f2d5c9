// GradScaler: dynamic loss scaling for float16 training, with torch.amp.GradScaler's rules.
//   scale(loss)      loss * scale (the backward then carries scaled gradients)
//   unscale_(opt)    one fused native pass over every gradient: g *= 1/scale, and a device flag
//                    found_inf set when any gradient element is NaN or infinite
//   step(opt)        optimizers whose step applies the scaling itself (opt.fusedScaling: SGD,
//                    AdamW, as torch's fused optimizers) get a check-only pass for the flag (unless
//                    unscale_ ran) and step with the flag and 1/scale: the device skips the step when
//                    the flag is set and unscales the gradients as it reads them; the step needs no
//                    device read. Other optimizers (NG, LARC, LAMB reduce the gradients first) are
//                    unscaled in place, the flag is read, and opt.step() runs only when it is clear.
//   update()         reads each flag once (if step() did not), takes back the host-side state of a
//                    step the device skipped (opt.undoSkippedStep()), and returns whether every
//                    optimizer stepped. Found inf: scale *= backoff (0.5), tracker = 0; else tracker
//                    += 1 and after growthInterval (2000) clean steps in a row scale *= growth (2).
// One device-to-host read per optimizer per step either way. The scale is a float32 value (as
// PyTorch's scale tensor); 1/scale is rounded to float32 the way PyTorch computes it (double
// reciprocal, then float). Defaults: initial scale 2^16. Under fusedScaling the gradients keep their
// scaled values after step() (as with torch's fused optimizers).
import { ArgumentError } from '../errors';
import { kernels } from '../native/addon';
import type { Parameter } from '../nn/parameter';
import { scale as scaleOp } from '../autograd/ops/elementwise';
import { Tensor } from '../tensor';
import type { Optimizer } from './optimizer';

export interface GradScalerOptions {
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
  /** false makes every method a pass-through (as GradScaler(enabled=False)). */
  enabled?: boolean;
}

/** PyTorch's GradScaler.state_dict() keys. */
export interface GradScalerState {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  _growth_tracker: number;
}

/** One optimizer's step under the scaler since the last update(). */
interface Pending {
  /** The device found-inf flag. */
  flag: Tensor;
  /** Whether unscale_() divided the gradients in place. */
  unscaled: boolean;
  /** The flag's value once read on the host (null: not read yet). */
  found: boolean | null;
  /** Whether stepScaled() ran (the device decided about the skip). */
  fused: boolean;
}

export class GradScaler {
  private scaleValue: number;
  private growthTracker = 0;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly enabled: boolean;
  /** Per optimizer: its found_inf flag on the device once unscale_() or step() ran in this step. */
  private readonly pending = new Map<Optimizer, Pending>();
  /** Steps skipped because of non-finite gradients (for logs). */
  skippedSteps = 0;

  constructor(options: GradScalerOptions = {}) {
    this.scaleValue = Math.fround(options.initScale ?? 2 ** 16);
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
    this.enabled = options.enabled ?? true;
    if (!(this.scaleValue > 0)) throw new ArgumentError(`GradScaler: initScale must be positive, got ${options.initScale}`);
    if (!(this.growthFactor > 1)) throw new ArgumentError(`GradScaler: growthFactor must be > 1, got ${this.growthFactor}`);
    if (!(this.backoffFactor > 0 && this.backoffFactor < 1)) throw new ArgumentError(`GradScaler: backoffFactor must be in (0, 1), got ${this.backoffFactor}`);
    if (!(Number.isInteger(this.growthInterval) && this.growthInterval > 0)) {
      throw new ArgumentError(`GradScaler: growthInterval must be a positive integer, got ${this.growthInterval}`);
    }
  }

  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  /** loss * scale (recorded by autograd). */
  scale(loss: Tensor): Tensor {
    return this.enabled ? scaleOp(loss, this.scaleValue) : loss;
  }

  /** 1/scale rounded to float32 as PyTorch computes it. */
  private invScale(): number {
    return Math.fround(1 / this.scaleValue);
  }

  /**
   * A new device flag after multi_unscale_found_inf over the optimizer's gradients with `inv`
   * (1: only the check, nothing written).
   */
  private checkGradients(optimizer: Optimizer, inv: number): Tensor {
    const params: Parameter[] = optimizer.paramGroups.flatMap((g) => g.params);
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    const flag = Tensor.zeros([1], { device: grads[0]?.device ?? params[0]?.device ?? 'cpu' });
    try {
      if (grads.length > 0) kernels.multi_unscale_found_inf(grads.map((g) => g.buffer), flag.buffer, grads.map((g) => g.numel), grads.length, inv);
    } catch (e) {
      flag.dispose();
      throw e;
    }
    return flag;
  }

  /** Divides the optimizer's gradients by the scale, in place, and notes non-finite ones on the device. */
  unscale_(optimizer: Optimizer): void {
    if (!this.enabled) return;
    if (this.pending.has(optimizer)) throw new ArgumentError('GradScaler: unscale_() was already called on this optimizer since the last update()');
    this.pending.set(optimizer, { flag: this.checkGradients(optimizer, this.invScale()), unscaled: true, found: null, fused: false });
  }

  /**
   * Steps the optimizer unless a gradient was non-finite: on the device for optimizers with
   * fusedScaling (no read here; update() says whether it stepped), else after reading the flag.
   */
  step(optimizer: Optimizer): void {
    if (!this.enabled) {
      optimizer.step();
      return;
    }
    let entry = this.pending.get(optimizer);
    if (entry?.fused || entry?.found != null) throw new ArgumentError('GradScaler: step() was already called on this optimizer since the last update()');
    if (optimizer.fusedScaling) {
      if (entry === undefined) {
        entry = { flag: this.checkGradients(optimizer, 1), unscaled: false, found: null, fused: false };
        this.pending.set(optimizer, entry);
      }
      optimizer.stepScaled(entry.flag.buffer, entry.unscaled ? 1 : this.invScale());
      entry.fused = true;
      return;
    }
    if (entry === undefined) {
      this.unscale_(optimizer);
      entry = this.pending.get(optimizer)!;
    }
    entry.found = entry.flag.item() !== 0;  // the one device read of the step
    if (!entry.found) optimizer.step();
  }

  /**
   * Updates the scale from this step's outcome (GradScaler.update) and returns whether every
   * optimizer stepped (false when some gradient was non-finite and its step was skipped).
   */
  update(): boolean {
    if (!this.enabled) return true;
    if (this.pending.size === 0) throw new ArgumentError('GradScaler: update() before any step() or unscale_()');
    let foundInf = false;
    try {
      for (const [optimizer, entry] of this.pending) {
        const found = entry.found ?? entry.flag.item() !== 0;  // the one read, when step() did not
        if (entry.fused) {
          if (found) optimizer.undoSkippedStep();
          else optimizer.keepScaledStep();
        }
        if (found && (entry.fused || entry.found !== null)) this.skippedSteps++;
        foundInf ||= found;
      }
    } finally {
      for (const entry of this.pending.values()) entry.flag.dispose();
      this.pending.clear();
    }
    if (foundInf) {
      this.scaleValue = Math.fround(this.scaleValue * this.backoffFactor);
      this.growthTracker = 0;
    } else if (this.growthTracker + 1 === this.growthInterval) {
      const grown = Math.fround(this.scaleValue * this.growthFactor);
      if (Number.isFinite(grown)) this.scaleValue = grown;
      this.growthTracker = 0;
    } else {
      this.growthTracker++;
    }
    return !foundInf;
  }

  stateDict(): GradScalerState {
    return {
      scale: this.scaleValue, growth_factor: this.growthFactor, backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval, _growth_tracker: this.growthTracker,
    };
  }

  loadStateDict(state: GradScalerState): void {
    if (!(state.scale > 0) || !Number.isInteger(state._growth_tracker) || state._growth_tracker < 0) {
      throw new ArgumentError(`GradScaler: invalid state ${JSON.stringify(state)}`);
    }
    this.scaleValue = Math.fround(state.scale);
    this.growthTracker = state._growth_tracker;
  }

  dispose(): void {
    for (const entry of this.pending.values()) entry.flag.dispose();
    this.pending.clear();
  }
}
