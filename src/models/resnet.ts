// ResNets with torchvision's structure and parameter names (torchvision.models.resnet): the
// Bottleneck block (1x1, 3x3 with the stride (v1.5), 1x1 expanding by 4; downsample = 1x1 conv +
// BN when the shape changes), the stem conv1 / bn1 / relu / maxpool, layer1..layer4, avgpool, fc.
// resnet() builds any size, e.g. the reduced configurations of the parity tests; resnet50() is
// torchvision's resnet50 (25,557,032 parameters in 161 tensors at 1000 classes) and
// resnet50Cifar() the CIFAR variant (3x3 stride-1 stem without max-pool; 23,705,252 at 100).
// Convolutions have no bias (BN follows each), as in torchvision.
import { ArgumentError } from '../errors';
import { add } from '../autograd/ops/elementwise';
import { AdaptiveAvgPool2d } from '../nn/adaptive-avgpool2d';
import { BatchNorm2d } from '../nn/batchnorm2d';
import { Conv2d } from '../nn/conv2d';
import { Flatten } from '../nn/flatten';
import { Linear } from '../nn/linear';
import { MaxPool2d } from '../nn/maxpool2d';
import { Module } from '../nn/module';
import { ReLU } from '../nn/relu';
import { Sequential } from '../nn/sequential';
import type { Tensor } from '../tensor';

/** torchvision.models.resnet.Bottleneck (expansion 4, stride on conv2). */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly relu: ReLU;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, options: { baseWidth?: number } = {}) {
    super();
    const width = Math.floor(planes * ((options.baseWidth ?? 64) / 64));
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.registerModule('conv1', new Conv2d(inplanes, width, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', new Conv2d(width, width, 3, { stride, padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', new Conv2d(width, out, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    this.relu = this.registerModule('relu', new ReLU());
    this.downsample = stride !== 1 || inplanes !== out
      ? this.registerModule('downsample', new Sequential(new Conv2d(inplanes, out, 1, { stride, bias: false }), new BatchNorm2d(out)))
      : null;
  }

  forward(x: Tensor): Tensor {
    let y = this.relu.call(this.bn1.call(this.conv1.call(x)));
    y = this.relu.call(this.bn2.call(this.conv2.call(y)));
    y = this.bn3.call(this.conv3.call(y));
    return this.relu.call(add(y, this.downsample ? this.downsample.call(x) : x));
  }
}

export interface ResNetOptions {
  /** Bottleneck blocks per stage (resnet50: [3, 4, 6, 3]). */
  layers: readonly [number, number, number, number];
  numClasses?: number;
  inChannels?: number;
  /** Planes of layer1 (doubling per stage) and the stem's channels; torchvision: 64. */
  width?: number;
  /** Bottleneck width per group (torchvision's width_per_group, 64): the 3x3 width is planes * baseWidth / 64. */
  baseWidth?: number;
  /** 'imagenet': 7x7 stride-2 conv + 3x3 stride-2 max-pool; 'cifar': 3x3 stride-1 conv, no max-pool. */
  stem?: 'imagenet' | 'cifar';
}

export class ResNet extends Module {
  private readonly stem: Module[];
  private readonly stages: Sequential[];
  private readonly head: Module[];

  constructor(options: ResNetOptions) {
    super();
    const { layers, numClasses = 1000, inChannels = 3, width = 64, baseWidth = 64, stem = 'imagenet' } = options;
    if (layers.length !== 4 || !layers.every((n) => Number.isSafeInteger(n) && n >= 1)) {
      throw new ArgumentError(`resnet: layers must be 4 positive block counts, got [${layers.join(', ')}]`);
    }
    const conv1 = stem === 'imagenet'
      ? new Conv2d(inChannels, width, 7, { stride: 2, padding: 3, bias: false })
      : new Conv2d(inChannels, width, 3, { stride: 1, padding: 1, bias: false });
    this.stem = [this.registerModule('conv1', conv1), this.registerModule('bn1', new BatchNorm2d(width)), this.registerModule('relu', new ReLU())];
    if (stem === 'imagenet') this.stem.push(this.registerModule('maxpool', new MaxPool2d(3, 2, 1)));
    let inplanes = width;
    this.stages = layers.map((blocks, i) => {
      const planes = width * 2 ** i;
      const stride = i === 0 ? 1 : 2;
      const list: Bottleneck[] = [];
      for (let b = 0; b < blocks; b++) {
        list.push(new Bottleneck(inplanes, planes, b === 0 ? stride : 1, { baseWidth }));
        inplanes = planes * Bottleneck.expansion;
      }
      return this.registerModule(`layer${i + 1}`, new Sequential(...list));
    });
    this.head = [
      this.registerModule('avgpool', new AdaptiveAvgPool2d(1)),
      this.registerModule('flatten', new Flatten()),
      this.registerModule('fc', new Linear(inplanes, numClasses)),
    ];
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of [...this.stem, ...this.stages, ...this.head]) y = m.call(y);
    return y;
  }
}

/** A ResNet of Bottleneck blocks with torchvision's names (any depth and width). */
export function resnet(options: ResNetOptions): ResNet {
  return new ResNet(options);
}

/** torchvision's resnet50 (v1.5). */
export function resnet50(numClasses = 1000, inChannels = 3): ResNet {
  return resnet({ layers: [3, 4, 6, 3], numClasses, inChannels });
}

/** ResNet-50 for 32px images: 3x3 stride-1 stem, no max-pool (100 classes by default, CIFAR-100). */
export function resnet50Cifar(numClasses = 100, inChannels = 3): ResNet {
  return resnet({ layers: [3, 4, 6, 3], numClasses, inChannels, stem: 'cifar' });
}
