// SGD (torch.optim.SGD): momentum, dampening, nesterov, weight decay; one fused native call
// updates every tensor (sgd_step), reading each tensor's lr (lr * lrScales[t]: group lr times eta)
// from a device array and, under GradScaler, skipping on the device found-inf flag and unscaling as
// it reads (fusedScaling). State dict as PyTorch's: {momentum_buffer} per parameter that has
// stepped, none without momentum.
import { ArgumentError } from '../errors';
import { keep } from '../memory';
import { kernels } from '../native/addon';
import type { Parameter } from '../nn/parameter';
import { Tensor } from '../tensor';
import { Optimizer, checkNonNegative, type ParamsInput } from './optimizer';
import type { GroupOption, ParamState, SGDStateDict } from './state';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  /** momentum_buffer per parameter (created on the first step that sees its gradient). */
  readonly momentumBuffers = new Map<Parameter, Tensor>();

  constructor(params: ParamsInput, options: SGDOptions) {
    super(params, { lr: options.lr, weightDecay: options.weightDecay ?? 0 });
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    checkNonNegative('momentum', this.momentum);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ArgumentError('SGD: nesterov momentum requires a momentum and zero dampening');
    }
  }

  override get fusedScaling(): boolean {
    return true;
  }

  step(): void {
    const { params, weightDecays, lr, lrScales } = this.activeTensors();
    if (params.length === 0) return;
    const device = params[0].device;
    const { foundInf, invScale } = this.scaling;
    const numels = params.map((p) => p.numel);
    const grads = params.map((p) => p.grad!.bufferFor('sgd_step'));
    if (this.momentum === 0) {
      this.fusedKernel(() => kernels.sgd_step(params.map((p) => p.buffer), grads, [], this.lrScaleBuffer(lrScales, device), foundInf,
        numels, weightDecays, params.length, lr, 0, this.dampening, false, true, invScale));
      return;
    }
    // Tensors without a buffer yet take PyTorch's first-step path (buf = d_p); run them apart.
    // Their new buffers join the state only after the kernel succeeded (disposed on an error). A
    // scaled step that the device skipped (found inf) leaves them unwritten: undoSkippedStep()
    // removes them again (torch skips the whole step, so its buffers appear at the next one).
    const fresh = params.map((p) => !this.momentumBuffers.has(p));
    for (const first of [true, false]) {
      const idx = params.map((_, i) => i).filter((i) => fresh[i] === first);
      if (idx.length === 0) continue;
      const buffers: Tensor[] = [];
      try {
        for (const i of idx) buffers.push(first ? keep(Tensor.empty(params[i].shape, { device: params[i].device })) : this.momentumBuffers.get(params[i])!);
        this.fusedKernel(() => kernels.sgd_step(
          idx.map((i) => params[i].buffer),
          idx.map((i) => grads[i]),
          buffers.map((b) => b.buffer),
          this.lrScaleBuffer(idx.map((i) => lrScales[i]), device),
          foundInf,
          idx.map((i) => numels[i]),
          idx.map((i) => weightDecays[i]),
          idx.length, lr, this.momentum, this.dampening, this.nesterov, first, invScale,
        ));
      } catch (e) {
        if (first) for (const b of buffers) b.dispose();
        throw e;
      }
      if (first) {
        idx.forEach((i, k) => this.momentumBuffers.set(params[i], buffers[k]));
        this.onSkippedStep(() => idx.forEach((i, k) => {
          if (this.momentumBuffers.get(params[i]) !== buffers[k]) return;
          this.momentumBuffers.delete(params[i]);
          buffers[k].dispose();
        }));
      }
    }
  }

  override stateDict(): SGDStateDict {
    return super.stateDict() as SGDStateDict;
  }

  protected fixedOptions(): Record<string, GroupOption> {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov };
  }

  protected stateKeys(): { tensors: readonly string[]; counters: readonly string[] } {
    return { tensors: this.momentum === 0 ? [] : ['momentum_buffer'], counters: [] };
  }

  protected paramState(p: Parameter): ParamState | undefined {
    const b = this.momentumBuffers.get(p);
    return b === undefined ? undefined : { momentum_buffer: b };
  }

  protected replaceState(states: Map<Parameter, Record<string, Tensor | number>>): void {
    this.disposeState();
    for (const [p, s] of states) if (s.momentum_buffer !== undefined) this.momentumBuffers.set(p, s.momentum_buffer as Tensor);
  }

  protected disposeState(): void {
    for (const b of this.momentumBuffers.values()) b.dispose();
    this.momentumBuffers.clear();
  }
}
