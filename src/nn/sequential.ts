// Sequential (torch.nn.Sequential): children named '0', '1', ... or by the given names
// (PyTorch's OrderedDict form), applied in order.
import type { Tensor } from '../tensor';
import { Module } from './module';

export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...layers: (Module | [string, Module])[]) {
    super();
    layers.forEach((entry, i) => {
      const [name, m] = Array.isArray(entry) ? entry : [String(i), entry];
      this.layers.push(this.registerModule(name, m));
    });
  }

  get length(): number {
    return this.layers.length;
  }

  at(index: number): Module {
    return this.layers[index];
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.call(y);
    return y;
  }
}
