// BatchNorm2d (torch.nn.BatchNorm2d): affine scale/shift, running statistics as buffers
// (running_mean, running_var, num_batches_tracked), batch statistics in training mode.
import { batchNorm2d } from '../autograd/ops/norm';
import { Tensor } from '../tensor';
import { Module } from './module';
import { Parameter } from './parameter';
import { ones_, zeros_ } from './init';

export class BatchNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(readonly numFeatures: number, readonly options: { eps?: number; momentum?: number } = {}) {
    super();
    this.weight = this.registerParameter('weight', ones_(new Parameter([numFeatures], 'norm_scale')) as Parameter);
    this.bias = this.registerParameter('bias', zeros_(new Parameter([numFeatures], 'norm_shift')) as Parameter);
    this.registerBuffer('running_mean', Tensor.zeros([numFeatures]));
    this.registerBuffer('running_var', Tensor.ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', Tensor.zeros([], { dtype: 'int32' }));
  }

  get runningMean(): Tensor {
    return this.buffer('running_mean');
  }

  get runningVar(): Tensor {
    return this.buffer('running_var');
  }

  /** Batches seen in training mode (PyTorch's num_batches_tracked), read from the host counter. */
  get numBatchesTracked(): number {
    return this.buffer('num_batches_tracked').item();
  }

  forward(x: Tensor): Tensor {
    const y = batchNorm2d(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training,
      momentum: this.options.momentum ?? 0.1,
      eps: this.options.eps ?? 1e-5,
    });
    if (this.training) this.incrementBatches();
    return y;
  }

  private incrementBatches(): void {
    const counter = this.buffer('num_batches_tracked');
    const host = counter.toArray() as Int32Array;
    host[0] += 1;
    counter.copyFromHost(host);
  }
}
