// Reductions to a scalar (native family: reduce): sum and mean, accumulated in double natively.
// Any float dtype and memory format; the result is a float32 scalar. Under autocast the input is
// cast to float32 first (sum and mean are on PyTorch's autocast float32 list); the gradient comes
// back in the input's dtype and format.
import { castForFloat32 } from '../../autocast';
import { kernels } from '../../native/addon';
import { Tensor, requireFloat } from '../../tensor';
import { record } from '../tape';

function reduceToScalar(input: Tensor, op: 'sum' | 'mean'): Tensor {
  requireFloat(input, op, 'x');
  const x = castForFloat32(input);
  const scale = op === 'mean' ? 1 / Math.max(x.numel, 1) : 1;
  const y = Tensor.empty([], { device: x.device });
  kernels.reduce_sum(y.buffer, x.bufferFor(op), x.dtype, x.numel, op === 'mean' && x.numel === 0 ? NaN : scale);
  return record(y, op, [x], (g) => {
    const dx = Tensor.emptyLike(x);
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
