// The public API of layerwise.
export { Tensor, type DType, type FloatDType, type MemoryFormat, type TensorOptions } from './tensor';
export { autocast, autocastDType, type AutocastDType, type AutocastOptions } from './autocast';
export { parseDevice, resolveDevice, type Device, type DeviceRequest, type ResolvedDevice } from './device';
export { setTf32 } from './native/cuda-backend';
export { scope, keep, memory, emptyCache } from './memory';
export { noGrad, isGradEnabled } from './autograd/tape';
export * as F from './functional';
export * as nn from './nn';
export * as optim from './optim';
export { manualSeed, Generator } from './random';
export * from './errors';
