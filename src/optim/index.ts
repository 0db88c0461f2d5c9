// The optim namespace: optimizers with per-tensor learning-rate multipliers, the paper's baselines
// (NG, LARC, LAMB, muP) and the factory that picks one per --lr-mode, their state dicts (PyTorch's
// structure) with the checkpoint form, and learning-rate schedules.
export { Optimizer, type ParamGroup, type ParamGroupOptions, type ParamsInput } from './optimizer';
export { SGD, type SGDOptions } from './sgd';
export { AdamW, type AdamWOptions } from './adamw';
export { AdamNG, SGDNG, normalizeGradients, tensorNorms, type NGOptions } from './ng';
export { LARC, type LARCOptions } from './larc';
export { LAMB, type LAMBOptions } from './lamb';
export {
  applyMupReadout, findReadout, mupInitReadout_, mupLrMultiplier, mupMultipliers, mupShapes,
  type MupOptimizer, type MupParamShape, type MupReadout,
} from './mup';
export { LR_MODES, OPTIMIZERS, buildOptimizer, type BuildOptimizerOptions, type LrMode, type OptimizerName } from './build';
export {
  optimizerStateFromTensors,
  optimizerStateToTensors,
  type AdamWParamGroupState,
  type AdamWParamState,
  type AdamWStateDict,
  type GroupOption,
  type OptimizerStateDict,
  type OptimizerStateJSON,
  type ParamGroupState,
  type ParamState,
  type SGDParamGroupState,
  type SGDParamState,
  type SGDStateDict,
} from './state';
export {
  constant,
  stepDecay,
  warmupCosine,
  type ConstantOptions,
  type Schedule,
  type ScheduleTiming,
  type StepDecayOptions,
  type WarmupCosineOptions,
} from './schedule';
export { GradScaler, type GradScalerOptions, type GradScalerState } from './grad-scaler';
