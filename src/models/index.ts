// The model registry: names accepted by --model (timm's names where timm has the model), how each
// is built from the data's shape, the input it expects, and the name mapping between our state
// dict and the timm/torchvision one (src/models/weights.ts).
import { ArgumentError } from '../errors';
import type { Module } from '../nn/module';
import { cnn3, smallCnn } from './cnn';
import { convnextTiny } from './convnext';
import { davidnet } from './davidnet';
import { MLP } from './mlp';
import { resnet50, resnet50Cifar } from './resnet';
import { vitSmallPatch16_224 } from './vit';
import { swinTiny } from './swin';
import { IDENTITY_MAPPING, QKV_SPLIT_MAPPING, type StateMapping } from './weights';

export interface ModelSpec {
  /** Input channels, height and width of one image. */
  inputShape: readonly [number, number, number];
  numClasses: number;
  /** Hidden width of the MLP (--hidden). */
  hidden?: number;
  /** Dropout probability (timm's drop_rate; the MLP's before its readout). 0 or absent: none. */
  drop?: number;
  /** Stochastic-depth rate (timm's drop_path_rate) of models with residual blocks that take it. */
  dropPath?: number;
}

export interface ModelEntry {
  description: string;
  /** The input (C, H, W) the model is designed for and built at by `layerwise models`. */
  inputShape: readonly [number, number, number];
  /** The class count it is built with when no data decides (`layerwise models`). */
  numClasses: number;
  build(spec: ModelSpec): Module;
  /** Our state-dict names <-> timm/torchvision's (identity for the CNNs; ViT/Swin split qkv). */
  mapping: StateMapping;
}

export const MODELS: Readonly<Record<string, ModelEntry>> = {
  mlp: {
    description: "the paper's 2-layer MLP: Flatten, fc1 (-> --hidden, default 1024), ReLU, fc2",
    inputShape: [1, 28, 28], numClasses: 10, mapping: IDENTITY_MAPPING,
    build: (s) => new MLP(s.inputShape[0] * s.inputShape[1] * s.inputShape[2], s.hidden ?? 1024, s.numClasses, { dropout: s.drop }),
  },
  cnn: {
    description: 'the default small CNN: 2 x (conv3x3-BN-ReLU-maxpool), 32/64 channels, fc (-> --hidden, default 128), fc',
    inputShape: [1, 28, 28], numClasses: 10, mapping: IDENTITY_MAPPING,
    build: (s) => smallCnn(s.inputShape[0], s.inputShape[1], s.numClasses, s.hidden ?? 128),
  },
  cnn3: {
    description: 'the benchmark CNN: 3 x (conv3x3-BN-ReLU), 32/64/128 channels, strides 1/2/2, global average pool, fc',
    inputShape: [1, 28, 28], numClasses: 10, mapping: IDENTITY_MAPPING,
    build: (s) => cnn3(s.inputShape[0], s.numClasses),
  },
  resnet50: {
    description: "torchvision's / timm's ResNet-50 (v1.5: stride on the 3x3 conv), 224px; torchvision names",
    inputShape: [3, 224, 224], numClasses: 1000, mapping: IDENTITY_MAPPING,
    build: (s) => resnet50(s.numClasses, s.inputShape[0]),
  },
  resnet50_cifar: {
    description: 'ResNet-50 for 32px images: 3x3 stride-1 stem, no max-pool (CIFAR-100: 100 classes)',
    inputShape: [3, 32, 32], numClasses: 100, mapping: IDENTITY_MAPPING,
    build: (s) => resnet50Cifar(s.numClasses, s.inputShape[0]),
  },
  davidnet: {
    description: "cifar10-fast's ResNet-9 (David Page): 64-128-256-512, two residuals, global max-pool, linear x 0.125, 32px",
    inputShape: [3, 32, 32], numClasses: 10, mapping: IDENTITY_MAPPING,
    build: (s) => davidnet({ numClasses: s.numClasses, inChannels: s.inputShape[0] }),
  },
  convnext_tiny: {
    description: "timm's ConvNeXt-T: patch-4 stem, depths 3/3/9/3, dims 96/192/384/768, dw 7x7 + LN + MLP x4 + LayerScale, 224px; timm names",
    inputShape: [3, 224, 224], numClasses: 1000, mapping: IDENTITY_MAPPING,
    build: (s) => convnextTiny({ numClasses: s.numClasses, inChannels: s.inputShape[0], drop: s.drop, dropPath: s.dropPath }),
  },
  vit_small_patch16_224: {
    description: "timm's ViT-S/16: dim 384, depth 12, 6 heads, MLP 1536, class token, 224px; timm names, qkv split into q/k/v",
    inputShape: [3, 224, 224], numClasses: 1000, mapping: QKV_SPLIT_MAPPING,
    build: (s) => {
      if (s.inputShape[1] !== s.inputShape[2]) throw new ArgumentError(`vit_small_patch16_224: needs square images, got ${s.inputShape.join('x')}`);
      return vitSmallPatch16_224({
      imgSize: s.inputShape[1], inChannels: s.inputShape[0], numClasses: s.numClasses, drop: s.drop, dropPath: s.dropPath,
      });
    },
  },
  swin_tiny_patch4_window7_224: {
    description: "timm's Swin-T: patch 4, embed 96, depths 2/2/6/2, heads 3/6/12/24, window 7 (shifted every second block), 224px; timm names, q/k/v split",
    inputShape: [3, 224, 224], numClasses: 1000, mapping: QKV_SPLIT_MAPPING,
    build: (s) => swinTiny(s.numClasses, { inChannels: s.inputShape[0], imgSize: s.inputShape[1], drop: s.drop, dropPath: s.dropPath }),
  },
};

export function modelNames(): string[] {
  return Object.keys(MODELS);
}

export function modelEntry(name: string): ModelEntry {
  const entry = MODELS[name];
  if (!entry) throw new ArgumentError(`unknown model '${name}' (available: ${modelNames().join(', ')})`);
  return entry;
}

export function createModel(name: string, spec: ModelSpec): Module {
  return modelEntry(name).build(spec);
}

export { resnet, resnet50, resnet50Cifar, Bottleneck, ResNet, type ResNetOptions } from './resnet';
export { davidnet, DavidNet, type DavidNetOptions } from './davidnet';
export { convnext, convnextTiny, ConvNeXt, ConvNeXtBlock, ConvNeXtStage, type ConvNeXtOptions } from './convnext';
export { vit, vitSmallPatch16_224, VisionTransformer, ViTBlock, Mlp, PatchEmbed, type ViTOptions } from './vit';
export { swin, swinTiny, SwinTransformer, SwinTransformerBlock, SwinTransformerStage, WindowAttention, PatchMerging, PatchEmbed as SwinPatchEmbed, Mlp as SwinMlp, type SwinOptions } from './swin';
