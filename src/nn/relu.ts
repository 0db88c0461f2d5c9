// ReLU (torch.nn.ReLU).
import { relu } from '../autograd/ops/activation';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
