// Activations (native family: activation): relu, gelu (erf form), softmax over the last
// dimension, and inverted dropout with a seeded counter-based mask. Any float dtype; the
// pointwise ones keep the input's memory format (channels-last included).
import { ArgumentError } from '../../errors';
import { kernels } from '../../native/addon';
import { castForFloat32 } from '../../autocast';
import { nextDropoutStream } from '../../random';
import { Tensor, requireContiguous, requireFloat } from '../../tensor';
import { record } from '../tape';

export function relu(x: Tensor): Tensor {
  requireFloat(x, 'relu', 'input');
  const y = Tensor.emptyLike(x);
  kernels.relu_forward(y.buffer, x.bufferFor('relu'), x.dtype, x.numel);
  return record(y, 'relu', [x], (g) => {
    const dx = Tensor.emptyLike(x);
    kernels.relu_backward(dx.buffer, g.buffer, y.buffer, x.dtype, x.numel);
    return [dx];
  });
}

/** GELU, exact (erf) form: torch.nn.GELU(approximate='none'). */
export function gelu(x: Tensor): Tensor {
  requireFloat(x, 'gelu', 'input');
  const y = Tensor.emptyLike(x);
  kernels.gelu_forward(y.buffer, x.bufferFor('gelu'), x.dtype, x.numel);
  return record(y, 'gelu', [x], (g) => {
    const dx = Tensor.emptyLike(x);
    kernels.gelu_backward(dx.buffer, g.buffer, x.buffer, x.dtype, x.numel);
    return [dx];
  });
}

/** Softmax over the last dimension (dim = -1); float32 under autocast (PyTorch's float32 list). */
export function softmax(input: Tensor, dim = -1): Tensor {
  requireFloat(input, 'softmax', 'input');
  const x = castForFloat32(input);
  requireContiguous(x, 'softmax', 'input');
  if (dim !== -1 && dim !== x.ndim - 1) {
    throw new ArgumentError(`softmax: only the last dimension is supported (dim=-1), got dim=${dim} for ${x.ndim} dims`);
  }
  const cols = x.shape[x.ndim - 1] ?? 1;
  const rows = cols === 0 ? 0 : x.numel / cols;
  const y = Tensor.emptyLike(x);
  kernels.softmax_forward(y.buffer, x.bufferFor('softmax'), x.dtype, rows, cols);
  return record(y, 'softmax', [x], (g) => {
    const dx = Tensor.emptyLike(x);
    kernels.softmax_backward(dx.buffer, g.buffer, y.buffer, x.dtype, rows, cols);
    return [dx];
  });
}

/** Inverted dropout; identity when !training or p == 0. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  requireFloat(x, 'dropout', 'input');
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const [seed, offset] = nextDropoutStream(x.numel);
  const y = Tensor.emptyLike(x);
  const mask = Tensor.emptyLike(x, { dtype: 'uint8' });
  kernels.dropout_forward(y.buffer, mask.buffer, x.bufferFor('dropout'), x.dtype, x.numel, p, seed, offset);
  return record(
    y,
    'dropout',
    [x],
    (g) => {
      const dx = Tensor.emptyLike(x);
      kernels.dropout_backward(dx.buffer, g.buffer, mask.buffer, x.dtype, x.numel, p);
      return [dx];
    },
    [mask],
  );
}

/**
 * Drop path (stochastic depth, timm DropPath with scale_by_keep): each sample of the batch (dim 0)
 * is zeroed with probability p, the others scaled by 1 / (1 - p). One draw per sample from the
 * dropout stream; identity when !training or p == 0.
 */
export function dropPath(x: Tensor, p: number, training: boolean): Tensor {
  const op = 'drop_path';
  requireFloat(x, op, 'input');
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`${op}: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (x.ndim === 0) throw new ArgumentError(`${op}: expected a batch dimension, got a 0-dim tensor`);
  const batch = x.shape[0];
  const inner = batch === 0 ? 0 : x.numel / batch;
  // channelsLast keeps each sample's values contiguous (N first), so the layout is the same.
  const [seed, offset] = nextDropoutStream(batch);
  const y = Tensor.emptyLike(x);
  const mask = Tensor.empty([batch], { dtype: 'uint8', device: x.device });
  kernels.drop_path_forward(y.buffer, mask.buffer, x.bufferFor(op), x.dtype, batch, inner, p, seed, offset);
  return record(
    y,
    op,
    [x],
    (g) => {
      const dx = Tensor.emptyLike(x);
      kernels.drop_path_backward(dx.buffer, g.buffer, mask.buffer, x.dtype, batch, inner, p);
      return [dx];
    },
    [mask],
  );
}
