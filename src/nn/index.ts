// The nn namespace: Module, Parameter and every layer.
export { Module } from './module';
export { Parameter, type ParameterRole } from './parameter';
export { Linear } from './linear';
export { Conv2d, type Conv2dOptions } from './conv2d';
export { BatchNorm2d } from './batchnorm2d';
export { LayerNorm } from './layernorm';
export { ReLU } from './relu';
export { GELU } from './gelu';
export { Dropout } from './dropout';
export { MaxPool2d } from './maxpool2d';
export { AvgPool2d } from './avgpool2d';
export { AdaptiveAvgPool2d } from './adaptive-avgpool2d';
export { AdaptiveMaxPool2d } from './adaptive-maxpool2d';
export { Flatten } from './flatten';
export { Sequential } from './sequential';
export { CrossEntropyLoss } from './cross-entropy-loss';
export * as init from './init';
