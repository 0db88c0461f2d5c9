// LARC, as NVIDIA apex's apex/parallel/LARC.py wrapped around torch.optim.SGD and docs/method.md
// section 5.1 (the paper's baseline: lr 0.2, trust 0.001, clip). For each conv/linear weight
// (Parameter.role 'weight') with ||w|| > 0 and ||g|| > 0:
//   a = trust * ||w|| / (||g|| + wd * ||w|| + eps);  clip: a = min(a / lr_i, 1)
//   g = (g + wd * w) * a
// where wd is the group's weight decay and lr_i the group's current lr times eta_i. Every other
// tensor (and a weight with a zero norm, as in apex) keeps its gradient and gets no decay. Then
// SGD (momentum, nesterov, dampening) steps with weight decay zero, since the decay is already
// folded into the gradient (apex zeroes group['weight_decay'] around the inner step).
// Per step: one multi_reduce_sum_squares over the weights and their gradients, one host read, one
// multi_axpby, then the fused SGD step. The gradients are rescaled in place, as in apex.
import { ArgumentError } from '../errors';
import { kernels } from '../native/addon';
import type { ActiveTensors, ParamsInput } from './optimizer';
import { SGD, type SGDOptions } from './sgd';
import { tensorNorms } from './ng';
import type { GroupOption } from './state';

export interface LARCOptions {
  /** apex's trust_coefficient (default 0.02 in apex; the paper uses 0.001, the default here). */
  trustCoefficient?: number;
  /** Clip mode: a = min(a / lr, 1), so the effective lr never exceeds the scheduled one (default true). */
  clip?: boolean;
  /** Added to the denominator (default 1e-8, apex's). */
  eps?: number;
}

export class LARC extends SGD {
  readonly trustCoefficient: number;
  readonly clip: boolean;
  readonly eps: number;

  constructor(params: ParamsInput, options: SGDOptions & LARCOptions) {
    super(params, options);
    this.trustCoefficient = options.trustCoefficient ?? 1e-3;
    this.clip = options.clip ?? true;
    this.eps = options.eps ?? 1e-8;
    if (!(this.trustCoefficient > 0) || !Number.isFinite(this.trustCoefficient)) {
      throw new ArgumentError(`LARC: trustCoefficient must be a positive finite number, got ${this.trustCoefficient}`);
    }
    if (!(this.eps >= 0) || !Number.isFinite(this.eps)) throw new ArgumentError(`LARC: eps must be a finite number >= 0, got ${this.eps}`);
  }

  /** The trust ratios must see unscaled gradients: GradScaler unscales in place and skips on the host. */
  override get fusedScaling(): boolean {
    return false;
  }

  override step(): void {
    const { params, lrs, weightDecays } = super.activeTensors();
    const idx = params.map((_, i) => i).filter((i) => params[i].role === 'weight');
    if (idx.length > 0) {
      const weights = idx.map((i) => params[i]);
      const numels = weights.map((p) => p.numel);
      const grads = weights.map((p) => p.grad!.bufferFor('LARC.step'));
      const norms = tensorNorms([...weights.map((p) => p.buffer), ...grads], [...numels, ...numels], weights[0].device);
      const alphas = new Float64Array(idx.length).fill(1);
      const betas = new Float64Array(idx.length);
      idx.forEach((i, k) => {
        const wNorm = norms[k];
        const gNorm = norms[idx.length + k];
        if (!(wNorm > 0 && gNorm > 0)) return;
        const wd = weightDecays[i];
        let a = (this.trustCoefficient * wNorm) / (gNorm + wd * wNorm + this.eps);
        if (this.clip) a = Math.min(a / lrs[i], 1);
        alphas[k] = a;
        betas[k] = wd * a;
      });
      kernels.multi_axpby(grads, weights.map((p) => p.buffer), numels, alphas, betas, idx.length);
    }
    super.step();
  }

  /** The SGD step inside LARC never decays: the decay is folded into the rescaled gradient. */
  protected override activeTensors(): ActiveTensors {
    const active = super.activeTensors();
    return { ...active, weightDecays: active.weightDecays.map(() => 0) };
  }

  /** SGD's options plus LARC's, so that a plain SGD state dict is not taken for a LARC one. */
  protected override fixedOptions(): Record<string, GroupOption> {
    return { ...super.fixedOptions(), trust_coefficient: this.trustCoefficient, clip: this.clip, larc_eps: this.eps };
  }
}
