// Optimizer base: param groups with their own lr and weight decay (as torch.optim), a fixed
// per-tensor learning-rate multiplier eta (the paper's layer-wise rates; 1 by default), and the
// host arrays the fused native steps read: lr_t = group lr * eta_t, wd_t = group weight decay.
import { ArgumentError } from '../errors';
import type { Parameter } from '../nn/parameter';

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

export type ParamsInput = Parameter[] | (ParamGroupOptions & { params: Parameter[] })[];

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[];
  private readonly eta = new Map<Parameter, number>();

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

  /** Parameters that have a gradient, with their effective lr and weight decay. */
  protected activeTensors(): { params: Parameter[]; lrs: number[]; weightDecays: number[] } {
    const params: Parameter[] = [];
    const lrs: number[] = [];
    const weightDecays: number[] = [];
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        params.push(p);
        lrs.push(g.lr * this.getEta(p));
        weightDecays.push(g.weightDecay);
      }
    }
    return { params, lrs, weightDecays };
  }

  /** Sets the same lr for every group (or scales: lr = factor * initialLr when scaleInitial). */
  setLr(lr: number): void {
    for (const g of this.paramGroups) g.lr = lr;
  }

  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  abstract step(): void;

  /** Releases optimizer state buffers. */
  abstract dispose(): void;
}

export function checkNonNegative(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) throw new ArgumentError(`optimizer: invalid ${name} ${value} (must be >= 0)`);
}
