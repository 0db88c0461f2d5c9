// LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning"), as docs/method.md section 5.2:
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;  m_hat = m/(1-b1^t);  v_hat = v/(1-b2^t)
//   r = m_hat / (sqrt(v_hat) + eps) + wd_i * w
//   w -= lr_i * (||w|| / ||r||) * r,   the ratio being 1 when either norm is 0
// with lr_i = group lr * eta_i, and wd_i the group's weight decay on conv/linear weights
// (Parameter.role 'weight') and 0 on every other tensor (the paper's recipe: decay on conv/linear
// only). The trust ratio applies to every tensor. Per step: lamb_direction (r written over the
// gradients, in place), the norms of the weights and of r in one multi_reduce_sum_squares call
// (2N tensors, one host read), and one multi_axpby (w += -lr_i * ratio_i * r). State as AdamW's, PyTorch's keys:
// exp_avg, exp_avg_sq, step (per parameter, counting from 1).
import { kernels } from '../native/addon';
import { tensorNorms } from './ng';
import { AdamMomentsOptimizer } from './adam-moments';
import type { ParamsInput } from './optimizer';

export interface LAMBOptions {
  lr?: number;
  betas?: [number, number];
  /** Default 1e-6 (the LAMB paper's and apex FusedLAMB's; buildOptimizer passes --eps). */
  eps?: number;
  /** On conv/linear weights only (default 0.01). */
  weightDecay?: number;
}


export class LAMB extends AdamMomentsOptimizer {
  constructor(params: ParamsInput, options: LAMBOptions = {}) {
    super('LAMB', params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 1e-2 }, options.betas ?? [0.9, 0.999], options.eps ?? 1e-6);
  }

  step(): void {
    const { params, lrs, weightDecays } = this.activeTensors();
    const [b1, b2] = this.betas;
    this.runSteps(params, (step, idx, states) => {
      const ws = idx.map((i) => params[i].buffer);
      const rs = idx.map((i) => params[i].grad!.bufferFor('LAMB.step'));
      const numels = idx.map((i) => params[i].numel);
      const wds = idx.map((i) => (params[i].role === 'weight' ? weightDecays[i] : 0));
      kernels.lamb_direction(
        rs, states.map((s) => s.expAvg.buffer), states.map((s) => s.expAvgSq.buffer), ws, numels, wds,
        idx.length, b1, b2, this.eps, 1 - b1 ** step, 1 - b2 ** step,
      );
      const norms = tensorNorms([...ws, ...rs], [...numels, ...numels], params[idx[0]].device);
      const betas = idx.map((i, k) => {
        const [wNorm, rNorm] = [norms[k], norms[idx.length + k]];
        const ratio = wNorm > 0 && rNorm > 0 ? wNorm / rNorm : 1;
        return -lrs[i] * ratio;
      });
      kernels.multi_axpby(ws, rs, numels, numels.map(() => 1), betas, idx.length);
    });
  }

  /** Same structure and keys as AdamW's (step, exp_avg, exp_avg_sq; betas and eps per group). */
}
