// Parameter: a leaf tensor that requires a gradient and outlives every scope. Each parameter
// declares its role, which the paper's initialization and the layer-wise tools use (docs/method.md
// sections 2.1 and 3) instead of guessing from names.
import type { Device } from '../device';
import { keep } from '../memory';
import { Tensor } from '../tensor';

export type ParameterRole =
  | 'weight' // conv / linear weight
  | 'bias'
  | 'norm_scale'
  | 'norm_shift'
  | 'cls_token'
  | 'pos_embed'
  | 'rel_pos_table'
  | 'layer_scale'
  | 'other';

export class Parameter extends Tensor {
  readonly role: ParameterRole;
  /** Convolution groups of a conv weight (1 otherwise): the paper init's grouped fan-out option. */
  groups = 1;

  constructor(shape: readonly number[], role: ParameterRole, device: Device = 'cpu') {
    super(Tensor.allocate(shape, 'float32', device), shape, 'float32', device);
    this.role = role;
    this.requiresGrad = true;
    keep(this);
  }
}
