// Normalization (native family: norm): BatchNorm2d in training mode (batch statistics, running
// statistics updated in place as torch.nn.functional.batch_norm does) and evaluation mode, and
// LayerNorm over the trailing dimensions.
// Mixed precision as PyTorch: batch_norm is on neither autocast list, so it runs in its input's
// dtype (any float dtype, contiguous or channelsLast, output in the input's format) with float32
// parameters and statistics; layer_norm is on the float32 list (castForFloat32 on its input).
// Parameters of another dtype are cast to float32 for the kernel (recorded, so their gradients
// come back in their own dtype).
import { castForFloat32 } from '../../autocast';
import { ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, numelOf, requireFloat, requireFloat32, requireSameDevice, shapeToString } from '../../tensor';
import { record } from '../tape';
import { cast } from './convert';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** A float parameter as float32 (the kernels' type for gamma and beta). */
function asFloat32(t: Tensor, op: string, name: string): Tensor {
  requireFloat(t, op, name);
  return t.dtype === 'float32' ? t : cast(t, 'float32');
}

/** F.batch_norm for x (N, C, ...) with affine weight and bias (C). */
export function batchNorm2d(
  x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor, bias: Tensor, options: BatchNormOptions,
): Tensor {
  const op = 'batch_norm';
  requireFloat(x, op, 'input');
  requireFloat32(runningMean, op, 'running_mean');
  requireFloat32(runningVar, op, 'running_var');
  requireSameDevice(op, { input: x, runningMean, runningVar, weight, bias });
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input with at least 2 dims (N, C, ...), got ${shapeToString(x.shape)}`);
  const [n, c] = x.shape;
  const hw = numelOf(x.shape.slice(2));
  for (const [name, t] of [['running_mean', runningMean], ['running_var', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t.numel !== c) throw new ShapeError(`${op}: ${name} ${shapeToString(t.shape)} does not match ${c} channels of input ${shapeToString(x.shape)}`);
  }
  const eps = options.eps ?? 1e-5;
  const momentum = options.momentum ?? 0.1;
  const channelsLast = x.memoryFormat === 'channelsLast';
  const dtype = x.dtype;
  const w = asFloat32(weight, op, 'weight');
  const b = asFloat32(bias, op, 'bias');
  const y = Tensor.emptyLike(x);
  const xb = x.bufferFor(op);
  if (!options.training) {
    kernels.batchnorm2d_forward_eval(y.buffer, xb, w.bufferFor(op), b.bufferFor(op), runningMean.bufferFor(op), runningVar.bufferFor(op), dtype, n, c, hw, channelsLast, eps);
    return record(y, op, [x, w, b], (g) => {
      const dx = Tensor.emptyLike(x);
      const dgamma = Tensor.empty([c], { device: x.device });
      const dbeta = Tensor.empty([c], { device: x.device });
      kernels.batchnorm2d_backward_eval(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, w.buffer, runningMean.buffer, runningVar.buffer, dtype, n, c, hw, channelsLast, eps);
      return [dx, dgamma, dbeta];
    });
  }
  if (n * hw < 2) throw new ShapeError(`${op}: expected more than 1 value per channel when training, got input ${shapeToString(x.shape)}`);
  const saveMean = Tensor.empty([c], { device: x.device });
  const saveInvstd = Tensor.empty([c], { device: x.device });
  kernels.batchnorm2d_forward_train(
    y.buffer, saveMean.buffer, saveInvstd.buffer, runningMean.bufferFor(op), runningVar.bufferFor(op), xb,
    w.bufferFor(op), b.bufferFor(op), dtype, n, c, hw, channelsLast, momentum, eps,
  );
  return record(
    y,
    op,
    [x, w, b],
    (g) => {
      const dx = Tensor.emptyLike(x);
      const dgamma = Tensor.empty([c], { device: x.device });
      const dbeta = Tensor.empty([c], { device: x.device });
      kernels.batchnorm2d_backward_train(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, w.buffer, saveMean.buffer, saveInvstd.buffer, dtype, n, c, hw, channelsLast);
      return [x.requiresGrad ? dx : (dx.dispose(), null), dgamma, dbeta];
    },
    [saveMean, saveInvstd],
  );
}

/** F.layer_norm over the trailing `normalizedShape` dims with weight and bias of that shape. */
export function layerNorm(input: Tensor, normalizedShape: readonly number[], weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const op = 'layer_norm';
  requireFloat(input, op, 'input');
  requireSameDevice(op, { input, weight, bias });
  let x = castForFloat32(input);
  if (x.memoryFormat !== 'contiguous') x = x.contiguous();
  const tail = x.shape.slice(x.ndim - normalizedShape.length);
  if (normalizedShape.length > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(`${op}: normalized_shape ${shapeToString(normalizedShape)} does not end input ${shapeToString(x.shape)}`);
  }
  const cols = numelOf(normalizedShape);
  if (weight.numel !== cols || bias.numel !== cols) {
    throw new ShapeError(`${op}: weight ${shapeToString(weight.shape)} / bias ${shapeToString(bias.shape)} do not match normalized_shape ${shapeToString(normalizedShape)}`);
  }
  const w = asFloat32(weight, op, 'weight');
  const b = asFloat32(bias, op, 'bias');
  const dtype = x.dtype;
  const rows = cols === 0 ? 0 : x.numel / cols;
  const y = Tensor.emptyLike(x);
  const mean = Tensor.empty([rows], { device: x.device });
  const rstd = Tensor.empty([rows], { device: x.device });
  kernels.layernorm_forward(y.buffer, mean.buffer, rstd.buffer, x.bufferFor(op), w.bufferFor(op), b.bufferFor(op), dtype, rows, cols, eps);
  return record(
    y,
    op,
    [x, w, b],
    (g) => {
      const dx = Tensor.emptyLike(x);
      const dgamma = Tensor.empty(w.shape, { device: x.device });
      const dbeta = Tensor.empty(b.shape, { device: x.device });
      kernels.layernorm_backward(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, w.buffer, mean.buffer, rstd.buffer, dtype, rows, cols);
      return [dx, dgamma, dbeta];
    },
    [mean, rstd],
  );
}

/**
 * timm's LayerNorm2d: layer norm over the channels of x (N, C, H, W) with weight and bias (C),
 * biased variance; float32 under autocast (the layer_norm list). A contiguous input runs
 * layernorm_channels_*; a channelsLast one is the last-dim layer norm with rows N*H*W, cols C.
 */
export function layerNorm2d(input: Tensor, weight: Tensor, bias: Tensor, eps = 1e-6): Tensor {
  const op = 'layer_norm2d';
  requireFloat(input, op, 'input');
  requireSameDevice(op, { input, weight, bias });
  const x = castForFloat32(input);
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected input (N, C, H, W), got ${shapeToString(x.shape)}`);
  const [n, c, h, wd] = x.shape;
  if (weight.numel !== c || bias.numel !== c) {
    throw new ShapeError(`${op}: weight ${shapeToString(weight.shape)} / bias ${shapeToString(bias.shape)} do not match ${c} channels of input ${shapeToString(x.shape)}`);
  }
  const w = asFloat32(weight, op, 'weight');
  const b = asFloat32(bias, op, 'bias');
  const dtype = x.dtype;
  const hw = h * wd;
  const channelsLast = x.memoryFormat === 'channelsLast';
  const y = Tensor.emptyLike(x);
  const mean = Tensor.empty([n * hw], { device: x.device });
  const rstd = Tensor.empty([n * hw], { device: x.device });
  const xb = x.bufferFor(op);
  if (channelsLast) kernels.layernorm_forward(y.buffer, mean.buffer, rstd.buffer, xb, w.bufferFor(op), b.bufferFor(op), dtype, n * hw, c, eps);
  else kernels.layernorm_channels_forward(y.buffer, mean.buffer, rstd.buffer, xb, w.bufferFor(op), b.bufferFor(op), dtype, n, c, hw, eps);
  return record(
    y,
    op,
    [x, w, b],
    (g) => {
      const dx = Tensor.emptyLike(x);
      const dgamma = Tensor.empty(w.shape, { device: x.device });
      const dbeta = Tensor.empty(b.shape, { device: x.device });
      if (channelsLast) kernels.layernorm_backward(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, w.buffer, mean.buffer, rstd.buffer, dtype, n * hw, c);
      else kernels.layernorm_channels_backward(dx.buffer, dgamma.buffer, dbeta.buffer, g.buffer, x.buffer, w.buffer, mean.buffer, rstd.buffer, dtype, n, c, hw);
      return [dx, dgamma, dbeta];
    },
    [mean, rstd],
  );
}
