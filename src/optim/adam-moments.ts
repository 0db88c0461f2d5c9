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
   * Advances the step count of each of `params` (creating zero moments at a first step) and
   * groups their indices by step count: all equal unless parameters joined late.
   */
  protected advanceSteps(params: readonly Parameter[]): Map<number, number[]> {
    const byStep = new Map<number, number[]>();
    params.forEach((p, i) => {
      let s = this.state.get(p);
      if (s === undefined) {
        s = { step: 0, expAvg: keep(Tensor.zeros(p.shape, { device: p.device })), expAvgSq: keep(Tensor.zeros(p.shape, { device: p.device })) };
        this.state.set(p, s);
      }
      s.step += 1;
      const list = byStep.get(s.step);
      if (list) list.push(i);
      else byStep.set(s.step, [i]);
    });
    return byStep;
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
    this.dispose();
    for (const [p, s] of states) {
      this.state.set(p, { step: s.step as number, expAvg: s.exp_avg as Tensor, expAvgSq: s.exp_avg_sq as Tensor });
    }
  }

  dispose(): void {
    for (const s of this.state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.state.clear();
  }
}
