// DavidNet: the ResNet-9 of David Page's cifar10-fast (the DAWNBench CIFAR-10 entry), with the
// parameter names of its PyTorch definition (scripts/fixtures/gen-cnn-fixtures.py writes the
// same net): prep (conv 64), layer1 (conv 128, max-pool 2, residual res1 + res2 of conv-BN-ReLU
// 128), layer2 (conv 256, max-pool 2), layer3 (conv 512, max-pool 2, residual 512), a global
// max-pool (cifar10-fast's MaxPool2d(4) on its 4x4 map), linear 512 -> classes without bias, and
// the logits multiplied by 0.125. Every conv is 3x3, padding 1, without bias, followed by
// BatchNorm2d with weight and bias and a ReLU. Bias convention: BN weight and bias both counted,
// linear without bias: 6,573,120 parameters in 25 tensors at 10 classes (with a linear bias it
// would be 6,573,130 in 26; without BN weights 6,570,880).
import { add, scale } from '../autograd/ops/elementwise';
import { AdaptiveMaxPool2d } from '../nn/adaptive-maxpool2d';
import { BatchNorm2d } from '../nn/batchnorm2d';
import { Conv2d } from '../nn/conv2d';
import { Flatten } from '../nn/flatten';
import { Linear } from '../nn/linear';
import { MaxPool2d } from '../nn/maxpool2d';
import { Module } from '../nn/module';
import { ReLU } from '../nn/relu';
import type { Tensor } from '../tensor';

/** cifar10-fast's conv_bn: conv 3x3 (no bias), BN, ReLU; names conv, bn. */
export class ConvBN extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly relu = new ReLU();

  constructor(cin: number, cout: number) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(cin, cout, 3, { padding: 1, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(cout));
    this.registerModule('relu', this.relu);
  }

  forward(x: Tensor): Tensor {
    return this.relu.call(this.bn.call(this.conv.call(x)));
  }
}

/** cifar10-fast's residual: x + res2(res1(x)). */
export class Residual extends Module {
  readonly res1: ConvBN;
  readonly res2: ConvBN;

  constructor(c: number) {
    super();
    this.res1 = this.registerModule('res1', new ConvBN(c, c));
    this.res2 = this.registerModule('res2', new ConvBN(c, c));
  }

  forward(x: Tensor): Tensor {
    return add(x, this.res2.call(this.res1.call(x)));
  }
}

/** A conv_bn followed by a 2x2 max-pool, with an optional residual: names conv, bn, residual. */
export class DavidLayer extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  private readonly relu = new ReLU();
  private readonly pool = new MaxPool2d(2);
  readonly residual: Residual | null;

  constructor(cin: number, cout: number, residual: boolean) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(cin, cout, 3, { padding: 1, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(cout));
    this.registerModule('relu', this.relu);
    this.registerModule('pool', this.pool);
    this.residual = residual ? this.registerModule('residual', new Residual(cout)) : null;
  }

  forward(x: Tensor): Tensor {
    const y = this.pool.call(this.relu.call(this.bn.call(this.conv.call(x))));
    return this.residual ? this.residual.call(y) : y;
  }
}

export interface DavidNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** Channels of prep, layer1, layer2, layer3 (cifar10-fast: 64, 128, 256, 512). */
  channels?: readonly [number, number, number, number];
  /** Multiplier of the logits (cifar10-fast: 0.125). */
  weight?: number;
}

export class DavidNet extends Module {
  readonly prep: ConvBN;
  readonly layer1: DavidLayer;
  readonly layer2: DavidLayer;
  readonly layer3: DavidLayer;
  private readonly pool = new AdaptiveMaxPool2d(1);
  private readonly flatten = new Flatten();
  readonly linear: Linear;
  readonly weight: number;

  constructor(options: DavidNetOptions = {}) {
    super();
    const [c0, c1, c2, c3] = options.channels ?? [64, 128, 256, 512];
    this.weight = options.weight ?? 0.125;
    this.prep = this.registerModule('prep', new ConvBN(options.inChannels ?? 3, c0));
    this.layer1 = this.registerModule('layer1', new DavidLayer(c0, c1, true));
    this.layer2 = this.registerModule('layer2', new DavidLayer(c1, c2, false));
    this.layer3 = this.registerModule('layer3', new DavidLayer(c2, c3, true));
    this.registerModule('pool', this.pool);
    this.registerModule('flatten', this.flatten);
    this.linear = this.registerModule('linear', new Linear(c3, options.numClasses ?? 10, { bias: false }));
  }

  forward(x: Tensor): Tensor {
    let y = this.layer3.call(this.layer2.call(this.layer1.call(this.prep.call(x))));
    y = this.linear.call(this.flatten.call(this.pool.call(y)));
    return scale(y, this.weight);
  }
}

export function davidnet(options: DavidNetOptions = {}): DavidNet {
  return new DavidNet(options);
}
