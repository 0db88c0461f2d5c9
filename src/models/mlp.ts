// The paper's 2-layer MLP (its Figure 7 experiment): Flatten, fc1 (inputs -> hidden), ReLU,
// fc2 (hidden -> classes). Parameter names fc1.weight, fc1.bias, fc2.weight, fc2.bias.
// readoutMultiplier (default 1) scales fc2's input, as the mup package's MuReadout does
// (mup/layer.py: `super().forward(self.output_mult * x / self.width_mult())`): for muP it is
// 1/width_mult (src/optim/mup.ts), so the readout's weight term is scaled and its bias is not.
// With `dropout` > 0 a Dropout layer sits between the ReLU and fc2 (no parameters: same names).
import { scale } from '../autograd/ops/elementwise';
import { ArgumentError } from '../errors';
import { Dropout } from '../nn/dropout';
import { Flatten } from '../nn/flatten';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { ReLU } from '../nn/relu';
import type { Tensor } from '../tensor';

export interface MLPOptions {
  /** Multiplier on the readout (fc2) input; 1 (the default) leaves the forward pass unchanged. */
  readoutMultiplier?: number;
  /** Dropout probability after the ReLU (0, the default: no dropout layer). */
  dropout?: number;
}

export class MLP extends Module {
  readonly flatten: Flatten;
  readonly fc1: Linear;
  readonly relu: ReLU;
  readonly dropout: Dropout | null;
  readonly fc2: Linear;
  private multiplier = 1;

  constructor(inputs: number, hidden: number, classes: number, options: MLPOptions = {}) {
    super();
    this.flatten = this.registerModule('flatten', new Flatten());
    this.fc1 = this.registerModule('fc1', new Linear(inputs, hidden));
    this.relu = this.registerModule('relu', new ReLU());
    this.dropout = (options.dropout ?? 0) > 0 ? this.registerModule('dropout', new Dropout(options.dropout)) : null;
    this.fc2 = this.registerModule('fc2', new Linear(hidden, classes));
    this.readoutMultiplier = options.readoutMultiplier ?? 1;
  }

  get readoutMultiplier(): number {
    return this.multiplier;
  }

  set readoutMultiplier(m: number) {
    if (!(m > 0) || !Number.isFinite(m)) throw new ArgumentError(`MLP: readoutMultiplier must be a positive finite number, got ${m}`);
    this.multiplier = m;
  }

  forward(x: Tensor): Tensor {
    const r = this.relu.call(this.fc1.call(this.flatten.call(x)));
    const h = this.dropout ? this.dropout.call(r) : r;
    return this.fc2.call(this.multiplier === 1 ? h : scale(h, this.multiplier));
  }
}
