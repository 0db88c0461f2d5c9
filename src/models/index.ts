// The model registry: names accepted by --model and how each is built from the data's shape.
import { ArgumentError } from '../errors';
import type { Module } from '../nn/module';
import { cnn3, smallCnn } from './cnn';
import { MLP } from './mlp';

export interface ModelSpec {
  /** Input channels, height and width of one image. */
  inputShape: readonly [number, number, number];
  numClasses: number;
  /** Hidden width of the MLP (--hidden). */
  hidden?: number;
  /** Dropout probability before the MLP's readout (0 or absent: no dropout layer). */
  dropout?: number;
}

interface ModelEntry {
  description: string;
  build(spec: ModelSpec): Module;
}

export const MODELS: Readonly<Record<string, ModelEntry>> = {
  mlp: {
    description: "the paper's 2-layer MLP: Flatten, fc1 (-> --hidden, default 1024), ReLU, fc2",
    build: (s) => new MLP(s.inputShape[0] * s.inputShape[1] * s.inputShape[2], s.hidden ?? 1024, s.numClasses, { dropout: s.dropout }),
  },
  cnn: {
    description: 'the default small CNN: 2 x (conv3x3-BN-ReLU-maxpool), 32/64 channels, fc (-> --hidden, default 128), fc',
    build: (s) => smallCnn(s.inputShape[0], s.inputShape[1], s.numClasses, s.hidden ?? 128),
  },
  cnn3: {
    description: 'the benchmark CNN: 3 x (conv3x3-BN-ReLU), 32/64/128 channels, strides 1/2/2, global average pool, fc',
    build: (s) => cnn3(s.inputShape[0], s.numClasses),
  },
};

export function modelNames(): string[] {
  return Object.keys(MODELS);
}

export function createModel(name: string, spec: ModelSpec): Module {
  const entry = MODELS[name];
  if (!entry) throw new ArgumentError(`unknown model '${name}' (available: ${modelNames().join(', ')})`);
  return entry.build(spec);
}
