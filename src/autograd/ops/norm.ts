// Normalization (native family: norm): BatchNorm2d in training mode (batch statistics, running
// statistics updated in place as torch.nn.functional.batch_norm does) and evaluation mode, and
// LayerNorm over the trailing dimensions.
import { ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, numelOf, requireFloat32, requireSameDevice, shapeToString } from '../../tensor';
import { record } from '../tape';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** F.batch_norm for x (N, C, ...) with affine weight and bias (C). */
export function batchNorm2d(
  x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor, bias: Tensor, options: BatchNormOptions,
): Tensor {
  const op = 'batch_norm';
  requireFloat32(x, op, 'input');
  requireSameDevice(op, { input: x, runningMean, runningVar, weight, bias });
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input with at least 2 dims (N, C, ...), got ${shapeToString(x.shape)}`);
  const [n, c] = x.shape;
  const hw = numelOf(x.shape.slice(2));
  for (const [name, t] of [['running_mean', runningMean], ['running_var', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t.numel !== c) throw new ShapeError(`${op}: ${name} ${shapeToString(t.shape)} does not match ${c} channels of input ${shapeToString(x.shape)}`);
  }
  const eps = options.eps ?? 1e-5;
  const momentum = options.momentum ?? 0.1;
  const y = Tensor.empty(x.shape, { device: x.device });
  const xb = x.bufferFor(op);
  if (!options.training) {
    kernels.batchnorm2d_forward_eval(y.buffer, xb, weight.buffer, bias.buffer, runningMean.buffer, runningVar.buffer, n, c, hw, eps);
    return record(y, op, [x, weight, bias], (g) => {
      const dx = Tensor.empty(x.shape, { device: x.device });
      const dgamma = Tensor.empty([c], { device: x.device });
      const dbeta = Tensor.empty([c], { device: x.device });
      kernels.batchnorm2d_backward_eval(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, weight.buffer, runningMean.buffer, runningVar.buffer, n, c, hw, eps);
      return [dx, dgamma, dbeta];
    });
  }
  if (n * hw < 2) throw new ShapeError(`${op}: expected more than 1 value per channel when training, got input ${shapeToString(x.shape)}`);
  const saveMean = Tensor.empty([c], { device: x.device });
  const saveInvstd = Tensor.empty([c], { device: x.device });
  kernels.batchnorm2d_forward_train(
    y.buffer, saveMean.buffer, saveInvstd.buffer, runningMean.bufferFor(op), runningVar.bufferFor(op), xb,
    weight.bufferFor(op), bias.bufferFor(op), n, c, hw, momentum, eps,
  );
  return record(
    y,
    op,
    [x, weight, bias],
    (g) => {
      const dx = Tensor.empty(x.shape, { device: x.device });
      const dgamma = Tensor.empty([c], { device: x.device });
      const dbeta = Tensor.empty([c], { device: x.device });
      kernels.batchnorm2d_backward_train(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, weight.buffer, saveMean.buffer, saveInvstd.buffer, n, c, hw);
      return [x.requiresGrad ? dx : (dx.dispose(), null), dgamma, dbeta];
    },
    [saveMean, saveInvstd],
  );
}

/** F.layer_norm over the trailing `normalizedShape` dims with weight and bias of that shape. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const op = 'layer_norm';
  requireFloat32(x, op, 'input');
  requireSameDevice(op, { input: x, weight, bias });
  const tail = x.shape.slice(x.ndim - normalizedShape.length);
  if (normalizedShape.length > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(`${op}: normalized_shape ${shapeToString(normalizedShape)} does not end input ${shapeToString(x.shape)}`);
  }
  const cols = numelOf(normalizedShape);
  if (weight.numel !== cols || bias.numel !== cols) {
    throw new ShapeError(`${op}: weight ${shapeToString(weight.shape)} / bias ${shapeToString(bias.shape)} do not match normalized_shape ${shapeToString(normalizedShape)}`);
  }
  const rows = cols === 0 ? 0 : x.numel / cols;
  const y = Tensor.empty(x.shape, { device: x.device });
  const mean = Tensor.empty([rows], { device: x.device });
  const rstd = Tensor.empty([rows], { device: x.device });
  kernels.layernorm_forward(y.buffer, mean.buffer, rstd.buffer, x.bufferFor(op), weight.bufferFor(op), bias.bufferFor(op), rows, cols, eps);
  return record(
    y,
    op,
    [x, weight, bias],
    (g) => {
      const dx = Tensor.empty(x.shape, { device: x.device });
      const dgamma = Tensor.empty(weight.shape, { device: x.device });
      const dbeta = Tensor.empty(bias.shape, { device: x.device });
      kernels.layernorm_backward(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, weight.buffer, mean.buffer, rstd.buffer, rows, cols);
      return [dx, dgamma, dbeta];
    },
    [mean, rstd],
  );
}
