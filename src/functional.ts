// The functional API (torch.nn.functional counterpart): every differentiable op of layerwise.
export { add, sub, mul, scale, broadcastLayout } from './autograd/ops/elementwise';
export { sum, mean } from './autograd/ops/reduce';
export { matmul, matmulNT, linear } from './autograd/ops/matmul';
export { scaledDotProductAttention, type AttentionOptions } from './autograd/ops/attention';
export { conv2d, type Conv2dOptions, type IntPair } from './autograd/ops/conv';
export { relu, gelu, softmax, dropout, dropPath } from './autograd/ops/activation';
export { batchNorm2d, layerNorm, layerNorm2d } from './autograd/ops/norm';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d } from './autograd/ops/pool';
export { crossEntropy, type Reduction } from './autograd/ops/loss';
export { reshape, flatten, permute, transpose, clone, toNhwc, fromNhwc } from './autograd/ops/shape';
export {
  windowPartition, windowReverse, relativePositionBias, windowMaskAdd, relativePositionIndex, relativePositionIndexTensor,
  shiftedWindowMask, shiftedWindowMaskArray, type RelativePositionBiasOptions,
} from './autograd/ops/window';
export { cat, narrow, prependToken } from './autograd/ops/concat';
