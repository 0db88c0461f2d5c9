// AdamW (torch.optim.AdamW): decoupled weight decay, bias corrections computed on the host; one
// fused native call updates every tensor (adamw_step), reading each tensor's lr (group lr * eta).
// Each parameter counts its own steps (PyTorch's state `step`); state dict keys as PyTorch's.
import { ArgumentError } from '../errors';
import { keep } from '../memory';
import { kernels } from '../native/addon';
import type { Parameter } from '../nn/parameter';
import { Tensor } from '../tensor';
import { Optimizer, type ParamsInput } from './optimizer';
import type { AdamWStateDict, GroupOption, ParamState } from './state';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

interface AdamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly state = new Map<Parameter, AdamState>();

  constructor(params: ParamsInput, options: AdamWOptions = {}) {
    super(params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 1e-2 });
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    for (const b of this.betas) if (!(b >= 0 && b < 1)) throw new ArgumentError(`AdamW: invalid beta ${b} (must be in [0, 1))`);
    if (!(this.eps >= 0)) throw new ArgumentError(`AdamW: invalid eps ${this.eps}`);
  }

  step(): void {
    const { params, lrs, weightDecays } = this.activeTensors();
    // Tensors are grouped by their step count (all equal unless parameters joined late).
    const byStep = new Map<number, number[]>();
    params.forEach((p, i) => {
      let s = this.state.get(p);
      if (s === undefined) {
        s = { step: 0, expAvg: keep(Tensor.zeros(p.shape, { device: p.device })), expAvgSq: keep(Tensor.zeros(p.shape, { device: p.device })) };
        this.state.set(p, s);
      }
      s.step += 1;
      byStep.set(s.step, [...(byStep.get(s.step) ?? []), i]);
    });
    const [b1, b2] = this.betas;
    for (const [step, idx] of byStep) {
      const states = idx.map((i) => this.state.get(params[i])!);
      kernels.adamw_step(
        idx.map((i) => params[i].buffer),
        idx.map((i) => params[i].grad!.bufferFor('adamw_step')),
        states.map((s) => s.expAvg.buffer),
        states.map((s) => s.expAvgSq.buffer),
        idx.map((i) => params[i].numel),
        idx.map((i) => lrs[i]),
        idx.map((i) => weightDecays[i]),
        idx.length, b1, b2, this.eps, 1 - b1 ** step, 1 - b2 ** step,
      );
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
