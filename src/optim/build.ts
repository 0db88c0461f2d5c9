// The one optimizer factory of the training loop and the CLI: --lr-mode and --optimizer to an
// Optimizer (docs/method.md sections 4 and 5), so schedules' apply(opt, step), zeroGrad, stateDict /
// loadStateDict and checkpoints work the same for every mode:
//   layerwise             SGD | AdamW with eta from the probe or a saved profile (required)
//   single                SGD | AdamW, eta_i = 1
//   increasing/decreasing SGD | AdamW with depth-linear eta (src/layerwise/depth.ts; computed here
//                         from the model unless the caller passes it)
//   sgd-ng / adam-ng      SGDNG (sgd only) / AdamNG (adamw only), src/optim/ng.ts
//   larc                  LARC around SGD (sgd only), src/optim/larc.ts
//   lamb                  LAMB (adamw only: Adam moments), src/optim/lamb.ts
//   mup                   SGD (MuSGD) | AdamW (MuAdam) with muP lr and weight-decay multipliers
//                         against mupBase; also sets the model's readout multiplier (src/optim/mup.ts)
// Combinations that make no sense are errors naming the option and the accepted values.
import { ArgumentError } from '../errors';
import { depthEta } from '../layerwise/depth';
import type { Module } from '../nn/module';
import type { Parameter } from '../nn/parameter';
import { AdamW } from './adamw';
import { LAMB } from './lamb';
import { LARC } from './larc';
import { applyMupReadout, mupMultipliers } from './mup';
import { AdamNG, SGDNG } from './ng';
import type { Optimizer, ParamsInput } from './optimizer';
import { SGD } from './sgd';

export const LR_MODES = ['layerwise', 'single', 'increasing', 'decreasing', 'sgd-ng', 'adam-ng', 'larc', 'lamb', 'mup'] as const;
export type LrMode = (typeof LR_MODES)[number];
export const OPTIMIZERS = ['sgd', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The optimizers each lr mode accepts. */
const ACCEPTED: Readonly<Record<LrMode, readonly OptimizerName[]>> = {
  layerwise: OPTIMIZERS, single: OPTIMIZERS, increasing: OPTIMIZERS, decreasing: OPTIMIZERS, mup: OPTIMIZERS,
  'sgd-ng': ['sgd'], larc: ['sgd'], 'adam-ng': ['adamw'], lamb: ['adamw'],
};

/** Roles that noDecayNormBias exempts from weight decay. */
const NO_DECAY_ROLES: ReadonlySet<Parameter['role']> = new Set(['bias', 'norm_scale', 'norm_shift']);

export interface BuildOptimizerOptions {
  lrMode: LrMode;
  optimizer: OptimizerName;
  model: Module;
  /** Explicit parameter groups (default: every model parameter, split by noDecayNormBias). */
  paramGroups?: ParamsInput;
  /** A second group with weight decay 0 for biases and norm scales/shifts. */
  noDecayNormBias?: boolean;
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** Per-tensor multipliers: required for 'layerwise' (the probe or --eta-from). */
  eta?: ReadonlyMap<Parameter, number>;
  /** LARC: trust coefficient (default 0.001), clip (default true), eps (default 1e-8); ignored by other modes. */
  larc?: { trust?: number; clip?: boolean; eps?: number };
  /** SGD-NG / Adam-NG: the gradient-norm floor (default 1e-8). */
  ngEps?: number;
  /** muP: the same architecture at base width (only its shapes are read; the caller disposes it). */
  mupBase?: Module;
}

const ETA_MODES: readonly LrMode[] = ['layerwise', 'increasing', 'decreasing'];

export function buildOptimizer(o: BuildOptimizerOptions): Optimizer {
  const mode = o.lrMode;
  if (!(LR_MODES as readonly string[]).includes(mode)) {
    throw new ArgumentError(`buildOptimizer: lrMode (--lr-mode) got ${JSON.stringify(mode)}; accepted: ${LR_MODES.join(', ')}`);
  }
  if (!(OPTIMIZERS as readonly string[]).includes(o.optimizer)) {
    throw new ArgumentError(`buildOptimizer: optimizer (--optimizer) got ${JSON.stringify(o.optimizer)}; accepted: ${OPTIMIZERS.join(', ')}`);
  }
  const accepted = ACCEPTED[mode];
  if (!accepted.includes(o.optimizer)) {
    throw new ArgumentError(
      `buildOptimizer: optimizer (--optimizer) '${o.optimizer}' does not go with lrMode (--lr-mode) '${mode}'; accepted with '${mode}': ${accepted.join(', ')}`,
    );
  }
  if (o.eta !== undefined && !ETA_MODES.includes(mode)) {
    throw new ArgumentError(`buildOptimizer: eta is only used with lrMode ${ETA_MODES.join(', ')}; lrMode '${mode}' sets its own multipliers`);
  }
  if (mode === 'layerwise' && o.eta === undefined) {
    throw new ArgumentError("buildOptimizer: lrMode 'layerwise' needs eta: run the probe (layerwise probe, or train without --eta-from) or pass --eta-from <eta.json>");
  }
  if (mode === 'mup' && o.mupBase === undefined) {
    throw new ArgumentError("buildOptimizer: lrMode 'mup' needs mupBase, the model at base width (--mup-base-width)");
  }
  if (mode !== 'mup' && o.mupBase !== undefined) throw new ArgumentError(`buildOptimizer: mupBase is only used with lrMode 'mup', got lrMode '${mode}'`);
  const groups = paramGroupsOf(o);
  const common = { lr: o.lr, weightDecay: o.weightDecay };
  const sgdOptions = { ...common, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov };
  const adamOptions = { ...common, betas: o.betas, eps: o.eps };
  switch (mode) {
    case 'sgd-ng':
      return new SGDNG(groups, { ...sgdOptions, ngEps: o.ngEps });
    case 'adam-ng':
      return new AdamNG(groups, { ...adamOptions, ngEps: o.ngEps });
    case 'larc':
      return new LARC(groups, { ...sgdOptions, trustCoefficient: o.larc?.trust, clip: o.larc?.clip, eps: o.larc?.eps });
    case 'lamb':
      return new LAMB(groups, adamOptions);
    default:
      break;
  }
  // Multipliers first, so that a model the mode cannot handle fails before anything changes.
  let eta = o.eta;
  if (mode === 'increasing' || mode === 'decreasing') {
    const named = o.model.namedParameters();
    eta ??= new Map(depthEta(named, mode).map((e, i) => [named[i][1], e.eta]));
  } else if (mode === 'mup') {
    eta = mupMultipliers(o.model, o.mupBase!, o.optimizer === 'sgd' ? 'sgd' : 'adam');
    applyMupReadout(o.model, o.mupBase!);
  }
  const opt = o.optimizer === 'sgd' ? new SGD(groups, sgdOptions) : new AdamW(groups, adamOptions);
  if (eta !== undefined) opt.setEta(eta);
  if (mode === 'mup') opt.setWeightDecayScale(new Map([...eta!].map(([p, m]) => [p, 1 / m])));
  return opt;
}

function paramGroupsOf(o: BuildOptimizerOptions): ParamsInput {
  if (o.paramGroups !== undefined) {
    if (o.noDecayNormBias) throw new ArgumentError('buildOptimizer: give either paramGroups or noDecayNormBias, not both');
    return o.paramGroups;
  }
  const params = o.model.parameters();
  if (params.length === 0) throw new ArgumentError(`buildOptimizer: model (${o.model.constructor.name}) has no parameters`);
  if (!o.noDecayNormBias) return params;
  const noDecay = params.filter((p) => NO_DECAY_ROLES.has(p.role));
  const decay = params.filter((p) => !NO_DECAY_ROLES.has(p.role));
  return [...(decay.length > 0 ? [{ params: decay }] : []), ...(noDecay.length > 0 ? [{ params: noDecay, weightDecay: 0 }] : [])];
}
