// The state shared by the Adam-family optimizers (AdamW, Adam-NG, LAMB): per parameter a step
// count and the first and second moments, created at a parameter's first step; state-dict keys as
// PyTorch's (step, exp_avg, exp_avg_sq) with betas and eps fixed per optimizer.
import { ArgumentError } from '../errors';
import { keep } from '../memory';
import type { Parameter } from '../nn/parameter';
import { Tensor } from '../tensor';
import { Optimizer, type ParamGroupOptions, type ParamsInput } from './optimizer';
import type { AdamWStateDict, GroupOption, ParamState } from './state';

export interface AdamMoments {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** One planned step (planSteps): moments per parameter and which of them are new (uncommitted). */
export interface StepPlan {
  params: readonly Parameter[];
  byStep: Map<number, number[]>;
  moments: AdamMoments[];
  fresh: Set<number>;
}

/** Disposes the new moments of a plan that were not committed. */
function discardSteps(plan: StepPlan): void {
  for (const i of plan.fresh) {
    plan.moments[i].expAvg.dispose();
    plan.moments[i].expAvgSq.dispose();
  }
  plan.fresh.clear();
}

export abstract class AdamMomentsOptimizer extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly state = new Map<Parameter, AdamMoments>();

  constructor(name: string, params: ParamsInput, defaults: Required<ParamGroupOptions>, betas: [number, number], eps: number) {
    super(params, defaults);
    this.betas = betas;
    this.eps = eps;
    for (const b of this.betas) if (!(b >= 0 && b < 1)) throw new ArgumentError(`${name}: invalid beta ${b} (must be in [0, 1))`);
    if (!(this.eps >= 0) || !Number.isFinite(this.eps)) throw new ArgumentError(`${name}: invalid eps ${this.eps}`);
  }

  /**
   * Plans one step of `params` without touching the state: each parameter's moments (new zero
   * buffers at a first step, owned by the plan until committed) and its indices grouped by the
   * step count it will have: all equal unless parameters joined late. Run each group's kernel,
   * then commitSteps(plan, group) on success; discardSteps(plan) disposes what was not committed.
   */
  protected planSteps(params: readonly Parameter[]): StepPlan {
    const byStep = new Map<number, number[]>();
    const moments: AdamMoments[] = [];
    const fresh = new Set<number>();
    try {
      params.forEach((p, i) => {
        let s = this.state.get(p);
        if (s === undefined) {
          fresh.add(i);
          s = { step: 0, expAvg: keep(Tensor.zeros(p.shape, { device: p.device })), expAvgSq: keep(Tensor.zeros(p.shape, { device: p.device })) };
        }
        moments.push(s);
        const list = byStep.get(s.step + 1);
        if (list) list.push(i);
        else byStep.set(s.step + 1, [i]);
      });
    } catch (e) {
      discardSteps({ params, byStep, moments, fresh });
      throw e;
    }
    return { params, byStep, moments, fresh };
  }

  /**
   * After the kernel of `idx` succeeded: new moments join the state and the step counts advance.
   * Under a scaled step the device may have skipped it (found inf): undoSkippedStep() then takes
   * both back (torch's fused Adam likewise subtracts found_inf from its step counts).
   */
  protected commitSteps(plan: StepPlan, idx: readonly number[]): void {
    const joined: number[] = [];
    for (const i of idx) {
      const s = plan.moments[i];
      s.step += 1;
      if (plan.fresh.delete(i)) {
        this.state.set(plan.params[i], s);
        joined.push(i);
      }
    }
    this.onSkippedStep(() => {
      for (const i of idx) plan.moments[i].step -= 1;
      for (const i of joined) {
        const p = plan.params[i];
        if (this.state.get(p) !== plan.moments[i]) continue;
        this.state.delete(p);
        plan.moments[i].expAvg.dispose();
        plan.moments[i].expAvgSq.dispose();
      }
    });
  }

  /**
   * Runs `kernel` for each step group of `params` (its step count, the group's indices and
   * moments), committing each group after its kernel succeeded; on an error the groups not yet
   * run keep their state unchanged (step counts, and no new moment buffers).
   */
  protected runSteps(params: readonly Parameter[], kernel: (step: number, idx: number[], moments: AdamMoments[]) => void): void {
    const plan = this.planSteps(params);
    try {
      for (const [step, idx] of plan.byStep) {
        kernel(step, idx, idx.map((i) => plan.moments[i]));
        this.commitSteps(plan, idx);
      }
    } finally {
      discardSteps(plan);
    }
  }

  override stateDict(): AdamWStateDict {
    return super.stateDict() as AdamWStateDict;
  }

  protected fixedOptions(): Record<string, GroupOption> {
    return { betas: [...this.betas], eps: this.eps };
  }

  protected stateKeys(): { tensors: readonly string[]; counters: readonly string[] } {
    return { tensors: ['exp_avg', 'exp_avg_sq'], counters: ['step'] };
  }

  protected paramState(p: Parameter): ParamState | undefined {
    const s = this.state.get(p);
    return s === undefined ? undefined : { step: s.step, exp_avg: s.expAvg, exp_avg_sq: s.expAvgSq };
  }

  protected replaceState(states: Map<Parameter, Record<string, Tensor | number>>): void {
    this.disposeState();
    for (const [p, s] of states) {
      this.state.set(p, { step: s.step as number, expAvg: s.exp_avg as Tensor, expAvgSq: s.exp_avg_sq as Tensor });
    }
  }

  protected disposeState(): void {
    for (const s of this.state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.state.clear();
  }
}
