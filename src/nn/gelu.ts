// GELU (torch.nn.GELU, approximate='none': the erf form).
import { gelu } from '../autograd/ops/activation';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return gelu(x);
  }
}
