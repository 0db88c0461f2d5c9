// muP (Yang et al., "Tensor Programs V"), the rules of the `mup` package (github.com/microsoft/mup)
// with per-tensor multipliers instead of its parameter-group split:
// - shapes (mup/shape.py set_base_shapes, mup/infshape.py zip_infshape): each parameter is compared
//   with the same-named parameter of a base model (same architecture at base width); a dim that
//   differs from the base is infinite, with width_mult = dim / base_dim; equal dims are finite.
//   ninf = number of infinite dims; "main" dim = the last infinite one (fan_in when both
//   (out, in) are infinite); fan_in = dim 1, fan_out = dim 0.
// - lr (mup/optim.py): MuSGD: ninf 1 (vector-like): lr *= width_mult(main); ninf 2 (matrix-like):
//   lr /= fanin_mult / fanout_mult; ninf 0: unchanged. MuAdam: ninf 2: lr /= width_mult(main) =
//   fanin_mult; others unchanged. ninf > 2 is an error (NotImplementedError in mup). Weight decay
//   as mup's default decoupled_wd=False: wd_i /= lr multiplier, so lr_i * wd_i stays lr * wd.
// - readout (mup/layer.py MuReadout): the output layer is the last Linear whose fan_in is infinite
//   (and fan_out finite); its input is multiplied by 1/width_mult (MuReadout.forward:
//   `super().forward(self.output_mult * x / self.width_mult())`, output_mult 1), which the model
//   applies through its `readoutMultiplier` (src/models/mlp.ts).
// - init: PyTorch's default init everywhere (what mup keeps for nn.Linear), and for the readout
//   mup's default set_base_shapes(rescale_params=True) -> MuReadout._rescale_parameters: weight
//   and bias *= sqrt(width_mult) (option: readout_zero_init, weight and bias = 0).
import { ArgumentError } from '../errors';
import { kernels } from '../native/addon';
import { zeros_ } from '../nn/init';
import { Linear } from '../nn/linear';
import type { Module } from '../nn/module';
import type { Parameter } from '../nn/parameter';

export type MupOptimizer = 'sgd' | 'adam';

export interface MupParamShape {
  name: string;
  param: Parameter;
  baseShape: readonly number[];
  /** width_mult of each dim (1 for finite dims). */
  widthMults: number[];
  infinite: boolean[];
  ninf: number;
  /** width_mult of the last infinite dim (1 when none): mup's InfShape.width_mult(). */
  widthMult: number;
}

/** Each parameter of `model` against the same-named one of `base`; every mismatch in one error. */
export function mupShapes(model: Module, base: Module): MupParamShape[] {
  const baseParams = new Map(base.namedParameters());
  const problems: string[] = [];
  const out: MupParamShape[] = [];
  for (const [name, p] of model.namedParameters()) {
    const b = baseParams.get(name);
    if (b === undefined) {
      problems.push(`${name} is not in the base model`);
      continue;
    }
    if (b.shape.length !== p.shape.length) {
      problems.push(`${name} has shape [${p.shape}] in the model, [${b.shape}] in the base model (different ranks)`);
      continue;
    }
    const infinite = p.shape.map((d, i) => d !== b.shape[i]);
    const widthMults = p.shape.map((d, i) => d / b.shape[i]);
    const ninf = infinite.filter(Boolean).length;
    if (ninf > 2) problems.push(`${name} has ${ninf} dims that differ from the base model's [${b.shape}] (muP handles at most 2)`);
    const main = infinite.lastIndexOf(true);
    out.push({ name, param: p, baseShape: [...b.shape], widthMults, infinite, ninf, widthMult: main < 0 ? 1 : widthMults[main] });
  }
  const names = new Set(model.namedParameters().map(([n]) => n));
  for (const name of baseParams.keys()) if (!names.has(name)) problems.push(`the base model's ${name} is not in the model`);
  if (problems.length > 0) throw new ArgumentError(`mup: the base model does not match the model:\n  ${problems.join('\n  ')}`);
  return out;
}

/** The lr multiplier of one tensor under MuSGD or MuAdam (mup/optim.py). */
export function mupLrMultiplier(s: MupParamShape, optimizer: MupOptimizer): number {
  if (optimizer === 'sgd') {
    if (s.ninf === 1) return s.widthMult;
    if (s.ninf === 2) return s.widthMults[0] / s.widthMults[1]; // lr /= fanin_mult / fanout_mult
    return 1;
  }
  if (optimizer === 'adam') return s.ninf === 2 ? 1 / s.widthMult : 1;
  throw new ArgumentError(`mup: optimizer must be 'sgd' or 'adam', got ${JSON.stringify(optimizer)}`);
}

/** Per-tensor lr multipliers of MuSGD / MuAdam, for optimizer.setEta (1 for finite tensors). */
export function mupMultipliers(model: Module, base: Module, optimizer: MupOptimizer): Map<Parameter, number> {
  return new Map(mupShapes(model, base).map((s) => [s.param, mupLrMultiplier(s, optimizer)]));
}

export interface MupReadout {
  /** The readout module's name in model.namedModules(). */
  name: string;
  linear: Linear;
  /** width_mult of its fan_in (MuReadout.width_mult()). */
  widthMult: number;
}

/** The output layer: the last Linear whose fan_in differs from the base's and fan_out does not. */
export function findReadout(model: Module, base: Module): MupReadout | null {
  const baseModules = new Map(base.namedModules());
  let found: MupReadout | null = null;
  for (const [name, m] of model.namedModules()) {
    const b = baseModules.get(name);
    if (!(m instanceof Linear) || !(b instanceof Linear)) continue;
    if (m.inFeatures !== b.inFeatures && m.outFeatures === b.outFeatures) found = { name, linear: m, widthMult: m.inFeatures / b.inFeatures };
  }
  return found;
}

interface ReadoutHost {
  readoutMultiplier: number;
}

function hostsReadout(model: Module): model is Module & ReadoutHost {
  return typeof (model as Partial<ReadoutHost>).readoutMultiplier === 'number';
}

/**
 * Sets the model's readout multiplier to 1/width_mult (1 when the model is at base width).
 * Idempotent; the multiplier is not a parameter, so a resumed run sets it again. Models whose
 * readout needs a multiplier must have a `readoutMultiplier` (the MLP); others are an error.
 */
export function applyMupReadout(model: Module, base: Module): number {
  const readout = findReadout(model, base);
  const multiplier = readout === null ? 1 : 1 / readout.widthMult;
  if (hostsReadout(model)) model.readoutMultiplier = multiplier;
  else if (multiplier !== 1) {
    throw new ArgumentError(
      `mup: ${model.constructor.name} has no readoutMultiplier for its readout ${readout!.name} ` +
        `(width_mult ${readout!.widthMult}); muP (--lr-mode mup) supports models with one, e.g. mlp`,
    );
  }
  return multiplier;
}

/**
 * mup's readout init on a freshly initialized model (not on loaded weights: like mup's
 * _rescale_parameters it is not idempotent): 'rescale' (mup's default) multiplies the readout's
 * weight and bias by sqrt(width_mult), a no-op at base width; 'zero' (MuReadout's
 * readout_zero_init=True) zeroes them (at base width: the model's last Linear). Every other tensor
 * keeps PyTorch's default init.
 */
export function mupInitReadout_(model: Module, base: Module, mode: 'rescale' | 'zero' = 'rescale'): void {
  if (mode !== 'rescale' && mode !== 'zero') throw new ArgumentError(`mup: readout init must be 'rescale' or 'zero', got ${JSON.stringify(mode)}`);
  const readout = findReadout(model, base);
  if (mode === 'rescale') {
    if (readout === null) return;
    const tensors = [readout.linear.weight, ...(readout.linear.bias ? [readout.linear.bias] : [])];
    const buffers = tensors.map((t) => t.buffer);
    const alpha = Math.sqrt(readout.widthMult);
    kernels.multi_axpby(buffers, buffers, tensors.map((t) => t.numel), tensors.map(() => alpha), tensors.map(() => 0), tensors.length);
    return;
  }
  const linear = readout?.linear ?? [...model.namedModules()].map(([, m]) => m).filter((m): m is Linear => m instanceof Linear).pop();
  if (linear === undefined) throw new ArgumentError(`mup: readout init 'zero': ${model.constructor.name} has no Linear layer`);
  zeros_(linear.weight);
  if (linear.bias) zeros_(linear.bias);
}
