// Normalized-gradient baselines (docs/method.md section 5, "sgd-ng" / "adam-ng"): every tensor's
// gradient is replaced by g_i / max(||g_i||_2, eps), then SGD with momentum (SGDNG) or AdamW
// (AdamNG) steps as usual, eta and weight decay included. Per step: one multi_reduce_sum_squares
// for the norms, one host read, one multi_axpby for the rescale, then the fused SGD / AdamW step.
// The rescale is in place (as apex's LARC rescales p.grad): after step() the gradients hold the
// normalized ones. tensorNorms is shared with LARC and LAMB.
import type { Device } from '../device';
import { ArgumentError } from '../errors';
import { kernels, type NativeBuffer } from '../native/addon';
import type { Parameter } from '../nn/parameter';
import { Tensor } from '../tensor';
import { AdamW, type AdamWOptions } from './adamw';
import type { ParamsInput } from './optimizer';
import { SGD, type SGDOptions } from './sgd';
import type { GroupOption } from './state';

/** ||x_t||_2 of each buffer (one native reduction; float32 sums of squares, sqrt in double). */
export function tensorNorms(buffers: readonly NativeBuffer[], numels: readonly number[], device: Device): Float64Array {
  const out = Tensor.empty([buffers.length], { device });
  try {
    kernels.multi_reduce_sum_squares(out.buffer, buffers, numels, numels.map(() => 1), buffers.length);
    return Float64Array.from(out.toArray(), Math.sqrt);
  } finally {
    out.dispose();
  }
}

/** Rescales each parameter's gradient in place to g / max(||g||, eps). */
export function normalizeGradients(params: readonly Parameter[], eps: number, op: string): void {
  if (params.length === 0) return;
  const grads = params.map((p) => p.grad!.bufferFor(op));
  const numels = params.map((p) => p.numel);
  const norms = tensorNorms(grads, numels, params[0].device);
  const alphas = Array.from(norms, (n) => 1 / Math.max(n, eps));
  kernels.multi_axpby(grads, grads, numels, alphas, numels.map(() => 0), params.length);
}

export interface NGOptions {
  /** The floor of the gradient norm (default 1e-8). */
  ngEps?: number;
}

function checkEps(name: string, eps: number): number {
  if (!(eps > 0) || !Number.isFinite(eps)) throw new ArgumentError(`${name}: ngEps must be a positive finite number, got ${eps}`);
  return eps;
}

/** SGD-NG: normalized gradients fed to torch.optim.SGD's rule (momentum, nesterov, weight decay). */
export class SGDNG extends SGD {
  readonly ngEps: number;

  constructor(params: ParamsInput, options: SGDOptions & NGOptions) {
    super(params, options);
    this.ngEps = checkEps('SGDNG', options.ngEps ?? 1e-8);
  }

  /** The norms must see unscaled gradients: GradScaler unscales in place and skips on the host. */
  override get fusedScaling(): boolean {
    return false;
  }

  override step(): void {
    normalizeGradients(this.activeTensors().params, this.ngEps, 'SGDNG.step');
    super.step();
  }

  /** SGD's options plus ng_eps, so that a plain SGD state dict is not taken for an SGD-NG one. */
  protected override fixedOptions(): Record<string, GroupOption> {
    return { ...super.fixedOptions(), ng_eps: this.ngEps };
  }
}

/** Adam-NG: normalized gradients fed to torch.optim.AdamW's rule. */
export class AdamNG extends AdamW {
  readonly ngEps: number;

  constructor(params: ParamsInput, options: AdamWOptions & NGOptions = {}) {
    super(params, options);
    this.ngEps = checkEps('AdamNG', options.ngEps ?? 1e-8);
  }

  /** The norms must see unscaled gradients: GradScaler unscales in place and skips on the host. */
  override get fusedScaling(): boolean {
    return false;
  }

  override step(): void {
    normalizeGradients(this.activeTensors().params, this.ngEps, 'AdamNG.step');
    super.step();
  }

  protected override fixedOptions(): Record<string, GroupOption> {
    return { ...super.fixedOptions(), ng_eps: this.ngEps };
  }
}
