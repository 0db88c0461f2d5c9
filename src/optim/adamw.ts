// AdamW (torch.optim.AdamW): decoupled weight decay, bias corrections computed on the host; one
// fused native call updates every tensor (adamw_step), reading each tensor's lr (lr * lrScales[t]:
// group lr * eta) from a device array and, under GradScaler, skipping on the device found-inf flag
// and unscaling as it reads (fusedScaling). Each parameter counts its own steps (PyTorch's state
// `step`); state dict keys as PyTorch's.
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

  override get fusedScaling(): boolean {
    return true;
  }

  step(): void {
    const { params, weightDecays, lr, lrScales } = this.activeTensors();
    const [b1, b2] = this.betas;
    const { foundInf, invScale } = this.scaling;
    // State changes (step counts, new moments) only after the kernel succeeded.
    this.runSteps(params, (step, idx, states) => {
      this.fusedKernel(() => kernels.adamw_step(
        idx.map((i) => params[i].buffer),
        idx.map((i) => params[i].grad!.bufferFor('adamw_step')),
        states.map((s) => s.expAvg.buffer),
        states.map((s) => s.expAvgSq.buffer),
        this.lrScaleBuffer(idx.map((i) => lrScales[i]), params[idx[0]].device),
        foundInf,
        idx.map((i) => params[i].numel),
        idx.map((i) => weightDecays[i]),
        idx.length, lr, b1, b2, this.eps, 1 - b1 ** step, 1 - b2 ** step, invScale,
      ));
    });
  }
}
