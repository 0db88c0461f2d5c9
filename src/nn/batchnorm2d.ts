// BatchNorm2d (torch.nn.BatchNorm2d): affine scale/shift, running statistics as buffers
// (running_mean, running_var, num_batches_tracked), batch statistics in training mode; the
// batch counter lives on the host (no device round trip per forward).
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

  /**
   * Batches seen in training mode (PyTorch's num_batches_tracked). Counted on the host: only the
   * host needs it, so a training step never touches the device for it; syncBuffers() writes it into
   * the buffer when the state dict is read, buffersLoaded() reads it back after a load.
   */
  private batchesTracked = 0;

  get numBatchesTracked(): number {
    return this.batchesTracked;
  }

  protected override syncBuffers(): void {
    this.buffer('num_batches_tracked').copyFromHost(Int32Array.of(this.batchesTracked));
  }

  protected override buffersLoaded(): void {
    this.batchesTracked = this.buffer('num_batches_tracked').item();
  }

  forward(x: Tensor): Tensor {
    const y = batchNorm2d(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training,
      momentum: this.options.momentum ?? 0.1,
      eps: this.options.eps ?? 1e-5,
    });
    if (this.training) this.batchesTracked++;
    return y;
  }
}
