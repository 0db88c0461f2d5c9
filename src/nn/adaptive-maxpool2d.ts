// AdaptiveMaxPool2d (torch.nn.AdaptiveMaxPool2d) for output size 1: global max pooling, run as
// the max-pool kernel with the kernel size set to the input's spatial size (DavidNet's head).
import { ArgumentError } from '../errors';
import { maxPool2d } from '../autograd/ops/pool';
import { pair, type IntPair } from '../autograd/ops/conv';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: IntPair = 1) {
    super();
    const [oh, ow] = pair(outputSize, 'output_size', 'AdaptiveMaxPool2d', 1);
    if (oh !== 1 || ow !== 1) throw new ArgumentError(`AdaptiveMaxPool2d: only output_size 1 is supported, got (${oh}, ${ow})`);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) return maxPool2d(x, 1); // lets max_pool2d name the bad shape
    const [, , h, w] = x.shape;
    return maxPool2d(x, [h, w]);
  }
}
