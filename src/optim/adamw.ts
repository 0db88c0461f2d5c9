// AdamW (torch.optim.AdamW): decoupled weight decay, bias corrections computed on the host; one
// fused native call updates every tensor (adamw_step), reading each tensor's lr (group lr * eta).
// Each parameter counts its own steps (PyTorch's state `step`); state dict keys as PyTorch's.
import { kernels } from '../native/addon';
import { AdamMomentsOptimizer } from './adam-moments';
import type { ParamsInput } from './optimizer';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW extends AdamMomentsOptimizer {
  constructor(params: ParamsInput, options: AdamWOptions = {}) {
    super('AdamW', params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 1e-2 }, options.betas ?? [0.9, 0.999], options.eps ?? 1e-8);
  }

  step(): void {
    const { params, lrs, weightDecays } = this.activeTensors();
    const [b1, b2] = this.betas;
    // State changes (step counts, new moments) only after the kernel succeeded.
    this.runSteps(params, (step, idx, states) => {
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
    });
  }
}
