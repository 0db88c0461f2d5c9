// Reductions to a scalar (native family: reduce): sum and mean, accumulated in double natively.
import { kernels } from '../../native/addon';
import { Tensor, requireFloat32 } from '../../tensor';
import { record } from '../tape';

function reduceToScalar(x: Tensor, op: 'sum' | 'mean'): Tensor {
  requireFloat32(x, op, 'x');
  const scale = op === 'mean' ? 1 / Math.max(x.numel, 1) : 1;
  const y = Tensor.empty([], { device: x.device });
  kernels.reduce_sum(y.buffer, x.bufferFor(op), x.numel, op === 'mean' && x.numel === 0 ? NaN : scale);
  return record(y, op, [x], (g) => {
    const dx = Tensor.empty(x.shape, { device: x.device });
    kernels.scalar_broadcast_forward(dx.buffer, g.buffer, x.dtype, scale, x.numel);
    return [dx];
  });
}

/** Sum of all elements, shape []. */
export function sum(x: Tensor): Tensor {
  return reduceToScalar(x, 'sum');
}

/** Mean of all elements, shape []. */
export function mean(x: Tensor): Tensor {
  return reduceToScalar(x, 'mean');
}
