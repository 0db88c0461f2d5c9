// The optim namespace: optimizers with per-tensor learning-rate multipliers, their state dicts
// (PyTorch's structure) with the checkpoint form, and learning-rate schedules.
export { Optimizer, type ParamGroup, type ParamGroupOptions, type ParamsInput } from './optimizer';
export { SGD, type SGDOptions } from './sgd';
export { AdamW, type AdamWOptions } from './adamw';
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
