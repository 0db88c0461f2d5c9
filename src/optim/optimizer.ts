// Optimizer base: param groups with their own lr and weight decay (as torch.optim), a fixed
// per-tensor learning-rate multiplier eta (the paper's layer-wise rates; 1 by default), the
// host arrays the fused native steps read (lr_t = group lr * eta_t, wd_t = group weight decay times
// an optional per-tensor scale, 1 unless muP sets it),
// and stateDict()/loadStateDict() in PyTorch's structure (types and validation in state.ts).
// The fused steps read lr_t = lr * lrScales[t] from a device array (lr-scales.ts: written only when
// the multipliers change) and, under GradScaler, skip on the device found-inf flag and unscale as
// they read (stepScaled), so that a step needs no device read.
import { ArgumentError } from '../errors';
import { keep } from '../memory';
import type { Device } from '../device';
import { kernels, type NativeBuffer } from '../native/addon';
import type { Parameter } from '../nn/parameter';
import { DTYPE_BYTES, Tensor } from '../tensor';
import { LrScaleCache } from './lr-scales';
import { checkStateDict, type GroupOption, type OptimizerStateDict, type ParamGroupState, type ParamState } from './state';

export interface ParamGroupOptions {
  lr?: number;
  weightDecay?: number;
}

export interface ParamGroup {
  params: Parameter[];
  lr: number;
  weightDecay: number;
  /** The lr before any schedule; schedules scale it (torch's initial_lr). */
  initialLr: number;
}

/** The parameters that step, with their effective lr (group lr * eta) and weight decay. */
export interface ActiveTensors {
  params: Parameter[];
  lrs: number[];
  weightDecays: number[];
  /** The fused steps' scalar lr: the largest group lr among the active tensors (0 when none). */
  lr: number;
  /** Per tensor lrs[t] / lr as eta * (group lr / lr): eta itself with one group (eta when lr is 0). */
  lrScales: number[];
}

/** float16 loss scaling handed to a fused step: the device found-inf flag (or null) and 1/scale. */
export type StepScaling = { foundInf: NativeBuffer | null; invScale: number };

export type ParamsInput = Parameter[] | (ParamGroupOptions & { params: Parameter[] })[];

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[];
  private readonly eta = new Map<Parameter, number>();
  private readonly decayScale = new Map<Parameter, number>();
  /** The device lr_scales arrays of the fused steps (disposed with the optimizer's state). */
  protected readonly lrScaleCache = new LrScaleCache();
  /** Set by stepScaled() for the duration of one step; no scaling otherwise. */
  protected scaling: StepScaling = { foundInf: null, invScale: 1 };
  /** What undoes the host-side state changes of the last stepScaled() (new state, step counts). */
  private undoScaled: (() => void)[] = [];

  constructor(params: ParamsInput, defaults: Required<ParamGroupOptions>) {
    checkNonNegative('lr', defaults.lr);
    checkNonNegative('weight_decay', defaults.weightDecay);
    const groups = params.length > 0 && !('params' in params[0]) ? [{ params: params as Parameter[] }] : (params as (ParamGroupOptions & { params: Parameter[] })[]);
    const seen = new Set<Parameter>();
    this.paramGroups = groups.map((g) => {
      for (const p of g.params) {
        if (seen.has(p)) throw new ArgumentError('optimizer: some parameters appear in more than one parameter group');
        seen.add(p);
      }
      const lr = g.lr ?? defaults.lr;
      const weightDecay = g.weightDecay ?? defaults.weightDecay;
      checkNonNegative('lr', lr);
      checkNonNegative('weight_decay', weightDecay);
      return { params: [...g.params], lr, weightDecay, initialLr: lr };
    });
  }

  /** Sets the per-tensor multipliers (eta_i); parameters not in the map keep 1. */
  setEta(eta: ReadonlyMap<Parameter, number>): void {
    for (const [p, v] of eta) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new ArgumentError(`optimizer: eta must be non-negative and finite, got ${v}`);
      this.eta.set(p, v);
    }
  }

  getEta(p: Parameter): number {
    return this.eta.get(p) ?? 1;
  }

  /**
   * Sets per-tensor weight-decay multipliers (wd_i = group weight decay * scale_i; 1 by default).
   * muP uses 1/eta_i, as the mup package's MuSGD/MuAdam scale weight_decay against the lr
   * (mup/optim.py, decoupled_wd=False). Like eta, not part of the state dict.
   */
  setWeightDecayScale(scale: ReadonlyMap<Parameter, number>): void {
    for (const [p, v] of scale) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new ArgumentError(`optimizer: weight-decay scale must be non-negative and finite, got ${v}`);
      this.decayScale.set(p, v);
    }
  }

  getWeightDecayScale(p: Parameter): number {
    return this.decayScale.get(p) ?? 1;
  }

  /** Parameters that have a gradient, with their effective lr and weight decay. */
  protected activeTensors(): ActiveTensors {
    const params: Parameter[] = [];
    const lrs: number[] = [];
    const weightDecays: number[] = [];
    const groupLrs: number[] = [];
    let lr = 0;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        params.push(p);
        lrs.push(g.lr * this.getEta(p));
        groupLrs.push(g.lr);
        weightDecays.push(g.weightDecay * this.getWeightDecayScale(p));
        lr = Math.max(lr, g.lr);
      }
    }
    const lrScales = params.map((p, i) => (lr > 0 && groupLrs[i] !== lr ? this.getEta(p) * (groupLrs[i] / lr) : this.getEta(p)));
    return { params, lrs, weightDecays, lr, lrScales };
  }

  /** The device array of `scales` (a subset's lrScales) for the fused steps' lr_scales. */
  protected lrScaleBuffer(scales: readonly number[], device: Device): NativeBuffer {
    return this.lrScaleCache.get(scales, device);
  }

  /** Runs a fused step's kernel; on an error the lr-scale arrays it allocated go too (a failed step keeps no new buffer). */
  protected fusedKernel(run: () => void): void {
    const mark = this.lrScaleCache.mark();
    try {
      run();
    } catch (e) {
      this.lrScaleCache.discardSince(mark);
      throw e;
    }
  }

  /**
   * Whether step() applies GradScaler's scaling itself (torch's _step_supports_amp_scaling): it
   * skips on the device found-inf flag and unscales the gradients as it reads them, so the scaler
   * need not read the flag before the step. The plain SGD and AdamW steps do; optimizers that
   * reduce the gradients first (NG, LARC, LAMB) get unscaled gradients and a host-side skip.
   */
  get fusedScaling(): boolean {
    return false;
  }

  /**
   * One step() with GradScaler's found-inf flag and 1/scale (for optimizers with fusedScaling). The
   * device skips the arithmetic when the flag is set; the host learns it later (GradScaler.update()
   * reads the flag once) and then calls undoSkippedStep(), which takes back the host-side state the
   * step created (new buffers, step counts), so that a skipped step leaves the state as torch's.
   */
  stepScaled(foundInf: NativeBuffer, invScale: number): void {
    if (!this.fusedScaling) throw new ArgumentError(`${this.constructor.name}: stepScaled() needs an optimizer whose step applies loss scaling`);
    this.undoScaled = [];
    this.scaling = { foundInf, invScale };
    try {
      this.step();
    } finally {
      this.scaling = { foundInf: null, invScale: 1 };
    }
  }

  /** Registers, during a scaled step, what undoes one of its host-side state changes. */
  protected onSkippedStep(undo: () => void): void {
    if (this.scaling.foundInf !== null) this.undoScaled.push(undo);
  }

  /** The last stepScaled() was skipped on the device (found inf): takes back its host-side state changes. */
  undoSkippedStep(): void {
    const undo = this.undoScaled;
    this.undoScaled = [];
    for (const u of undo.reverse()) u();
  }

  /** The last stepScaled() ran: its state changes stand. */
  keepScaledStep(): void {
    this.undoScaled = [];
  }

  /** Sets the same lr for every group (schedule.ts's apply() scales each group's initialLr instead). */
  setLr(lr: number): void {
    checkNonNegative('lr', lr);
    for (const g of this.paramGroups) g.lr = lr;
  }

  /**
   * PyTorch's state_dict(): per-parameter state keyed by index (over the groups in order, then
   * each group's parameters) and each group's hyperparameters. The state tensors are the live
   * buffers, not copies (as PyTorch); the dict is a snapshot only until the next step(). eta is
   * not part of it: it is fixed for a run and saved with the eta profile (docs/method.md section 2.4).
   */
  stateDict(): OptimizerStateDict {
    const state = new Map<number, ParamState>();
    let index = 0;
    const param_groups = this.paramGroups.map((g): ParamGroupState => {
      const params = g.params.map((p) => {
        const s = this.paramState(p);
        if (s !== undefined) state.set(index, s);
        return index++;
      });
      return { lr: g.lr, ...this.fixedOptions(), weight_decay: g.weightDecay, initial_lr: g.initialLr, params };
    });
    return { state, param_groups };
  }

  /**
   * PyTorch's load_state_dict(): validates everything first (group count and sizes, indices, the
   * options fixed at construction, each state's keys, dtypes and shapes; every problem in one
   * StateDictError naming the index and the shapes), then copies the values into new buffers,
   * replaces the whole state (parameters without saved state start fresh) and takes each group's
   * lr, weight_decay and initial_lr (when present).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const keys = this.stateKeys();
    const byIndex = checkStateDict(sd, {
      op: `${this.constructor.name}.loadStateDict`,
      groups: this.paramGroups.map((g) => g.params),
      fixedOptions: this.fixedOptions(),
      tensorKeys: keys.tensors,
      counterKeys: keys.counters,
    });
    const states = new Map<Parameter, Record<string, Tensor | number>>();
    try {
      for (const [index, entry] of sd.state) {
        const p = byIndex.get(index)!;
        const copy: Record<string, Tensor | number> = {};
        states.set(p, copy);
        for (const key of keys.counters) copy[key] = entry[key] as number;
        for (const key of keys.tensors) copy[key] = copyOf(entry[key] as Tensor, p);
      }
    } catch (e) {
      for (const s of states.values()) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
      throw e;
    }
    this.replaceState(states);
    sd.param_groups.forEach((saved, gi) => {
      const g = this.paramGroups[gi];
      g.lr = saved.lr;
      g.weightDecay = saved.weight_decay;
      if (saved.initial_lr !== undefined) g.initialLr = saved.initial_lr;
    });
  }

  /** Hyperparameters fixed at construction, written into every group (momentum, betas, ...). */
  protected abstract fixedOptions(): Record<string, GroupOption>;

  /** The keys of one parameter's state: tensors shaped like it, and integer counters. */
  protected abstract stateKeys(): { tensors: readonly string[]; counters: readonly string[] };

  /** A parameter's state under PyTorch's keys (live tensors), or undefined before its first step. */
  protected abstract paramState(p: Parameter): ParamState | undefined;

  /** Disposes the whole current state (disposeState) and takes `states` (validated, owned buffers) instead. */
  protected abstract replaceState(states: Map<Parameter, Record<string, Tensor | number>>): void;

  /** Releases the per-parameter state buffers (the state is empty afterwards). */
  protected abstract disposeState(): void;

  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  abstract step(): void;

  /** Releases the optimizer's buffers: the state and the lr-scale arrays. */
  dispose(): void {
    this.disposeState();
    this.lrScaleCache.dispose();
  }
}

/** A new buffer on p's device holding src's values (through the host when devices differ). */
function copyOf(src: Tensor, p: Parameter): Tensor {
  const dst = keep(Tensor.empty(p.shape, { device: p.device }));
  try {
    if (src.device === p.device) kernels.copy_bytes(dst.buffer, src.bufferFor('loadStateDict'), dst.numel * DTYPE_BYTES.float32);
    else dst.copyFromHost(src.toArray() as Float32Array);
  } catch (e) {
    dst.dispose();
    throw e;
  }
  return dst;
}

export function checkNonNegative(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) throw new ArgumentError(`optimizer: invalid ${name} ${value} (must be >= 0)`);
}
