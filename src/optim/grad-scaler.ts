// GradScaler: dynamic loss scaling for float16 training, with torch.amp.GradScaler's rules.
//   scale(loss)      loss * scale (the backward then carries scaled gradients)
//   unscale_(opt)    one fused native pass over every gradient: g *= 1/scale, and a device flag
//                    found_inf set when any gradient element is NaN or infinite
//   step(opt)        unscales if not done yet, reads the flag once, and runs opt.step() only when
//                    no gradient was non-finite; returns whether it stepped
//   update()         found inf: scale *= backoff (0.5), tracker = 0; else tracker += 1 and after
//                    growthInterval (2000) clean steps in a row scale *= growth (2), tracker = 0
// The scale is a float32 value (as PyTorch's scale tensor); 1/scale is rounded to float32 the
// way PyTorch computes it (double reciprocal, then float). Defaults: initial scale 2^16.
import { ArgumentError } from '../errors';
import { kernels } from '../native/addon';
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

export class GradScaler {
  private scaleValue: number;
  private growthTracker = 0;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly enabled: boolean;
  /** Per optimizer: its found_inf flag on the device once unscale_ ran in this step. */
  private readonly unscaled = new Map<Optimizer, Tensor>();
  /** Whether any optimizer found inf since the last update(). */
  private foundInfThisStep = false;
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

  /** Divides the optimizer's gradients by the scale, in place, and notes non-finite ones on the device. */
  unscale_(optimizer: Optimizer): void {
    if (!this.enabled) return;
    if (this.unscaled.has(optimizer)) throw new ArgumentError('GradScaler: unscale_() was already called on this optimizer since the last update()');
    const grads = optimizer.paramGroups.flatMap((g) => g.params).map((p) => p.grad).filter((g): g is Tensor => g !== null);
    const device = grads[0]?.device ?? 'cpu';
    const flag = Tensor.zeros([1], { device });
    const inv = Math.fround(1 / this.scaleValue);
    if (grads.length > 0) kernels.multi_unscale_found_inf(grads.map((g) => g.buffer), flag.buffer, grads.map((g) => g.numel), grads.length, inv);
    this.unscaled.set(optimizer, flag);
  }

  /** Runs optimizer.step() unless a gradient was non-finite; returns whether it stepped. */
  step(optimizer: Optimizer): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    if (!this.unscaled.has(optimizer)) this.unscale_(optimizer);
    const found = this.unscaled.get(optimizer)!.item() !== 0;  // the one device read of the step
    if (found) {
      this.foundInfThisStep = true;
      this.skippedSteps++;
      return false;
    }
    optimizer.step();
    return true;
  }

  /** Updates the scale from this step's outcome (GradScaler.update). */
  update(): void {
    if (!this.enabled) return;
    if (this.unscaled.size === 0) throw new ArgumentError('GradScaler: update() before any step() or unscale_()');
    for (const flag of this.unscaled.values()) flag.dispose();
    this.unscaled.clear();
    if (this.foundInfThisStep) {
      this.scaleValue = Math.fround(this.scaleValue * this.backoffFactor);
      this.growthTracker = 0;
    } else if (this.growthTracker + 1 === this.growthInterval) {
      const grown = Math.fround(this.scaleValue * this.growthFactor);
      if (Number.isFinite(grown)) this.scaleValue = grown;
      this.growthTracker = 0;
    } else {
      this.growthTracker++;
    }
    this.foundInfThisStep = false;
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
    for (const flag of this.unscaled.values()) flag.dispose();
    this.unscaled.clear();
  }
}
