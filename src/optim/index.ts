// The optim namespace: optimizers with per-tensor learning-rate multipliers.
export { Optimizer, type ParamGroup, type ParamGroupOptions, type ParamsInput } from './optimizer';
export { SGD, type SGDOptions } from './sgd';
export { AdamW, type AdamWOptions } from './adamw';
