// The paper's 2-layer MLP (its Figure 7 experiment): Flatten, fc1 (inputs -> hidden), ReLU,
// fc2 (hidden -> classes). Parameter names fc1.weight, fc1.bias, fc2.weight, fc2.bias.
import { Flatten } from '../nn/flatten';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { ReLU } from '../nn/relu';
import type { Tensor } from '../tensor';

export class MLP extends Module {
  readonly flatten: Flatten;
  readonly fc1: Linear;
  readonly relu: ReLU;
  readonly fc2: Linear;

  constructor(inputs: number, hidden: number, classes: number) {
    super();
    this.flatten = this.registerModule('flatten', new Flatten());
    this.fc1 = this.registerModule('fc1', new Linear(inputs, hidden));
    this.relu = this.registerModule('relu', new ReLU());
    this.fc2 = this.registerModule('fc2', new Linear(hidden, classes));
  }

  forward(x: Tensor): Tensor {
    return this.fc2.call(this.relu.call(this.fc1.call(this.flatten.call(x))));
  }
}
