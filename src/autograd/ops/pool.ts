// Pooling (native family: pool): MaxPool2d, AvgPool2d (PyTorch semantics, floor mode) and
// AdaptiveAvgPool2d(1) (global average pooling). Any float dtype, run in the input's dtype (pooling
// is on neither autocast list); contiguous or channelsLast, the output (and the max-pool indices)
// in the input's format.
import { ArgumentError, ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, requireFloat, shapeToString } from '../../tensor';
import { record } from '../tape';
import { pair, type IntPair } from './conv';

interface PoolGeometry {
  n: number; c: number; h: number; w: number; oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
}

function geometry(op: string, x: Tensor, kernel: IntPair, stride: IntPair | undefined, padding: IntPair): PoolGeometry {
  requireFloat(x, op, 'input');
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected input (N, C, H, W), got ${shapeToString(x.shape)}`);
  const [kh, kw] = pair(kernel, 'kernel_size', op, 1);
  const [sh, sw] = pair(stride ?? kernel, 'stride', op, 1);
  const [ph, pw] = pair(padding, 'padding', op, 0);
  if (ph * 2 > kh || pw * 2 > kw) throw new ArgumentError(`${op}: padding (${ph}, ${pw}) must be at most half of kernel_size (${kh}, ${kw})`);
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh < 1 || ow < 1) throw new ShapeError(`${op}: output would be empty for input ${shapeToString(x.shape)} and kernel (${kh}, ${kw})`);
  return { n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw };
}

export function maxPool2d(x: Tensor, kernel: IntPair, stride?: IntPair, padding: IntPair = 0): Tensor {
  const g0 = geometry('max_pool2d', x, kernel, stride, padding);
  const { n, c, h, w, oh, ow } = g0;
  const cl = x.memoryFormat === 'channelsLast';
  const y = Tensor.empty([n, c, oh, ow], { dtype: x.dtype, device: x.device, memoryFormat: x.memoryFormat });
  const indices = Tensor.empty([n, c, oh, ow], { dtype: 'int32', device: x.device, memoryFormat: x.memoryFormat });
  kernels.maxpool2d_forward(y.buffer, indices.buffer, x.bufferFor('max_pool2d'), x.dtype, n, c, h, w, oh, ow, g0.kh, g0.kw, g0.sh, g0.sw, g0.ph, g0.pw, cl);
  return record(
    y,
    'max_pool2d',
    [x],
    (g) => {
      const dx = Tensor.emptyLike(x);
      kernels.maxpool2d_backward(dx.buffer, g.buffer, indices.buffer, x.dtype, n, c, h, w, oh, ow, cl);
      return [dx];
    },
    [indices],
  );
}

export function avgPool2d(x: Tensor, kernel: IntPair, stride?: IntPair, padding: IntPair = 0, countIncludePad = true): Tensor {
  const g0 = geometry('avg_pool2d', x, kernel, stride, padding);
  const { n, c, h, w, oh, ow } = g0;
  const args = [x.dtype, n, c, h, w, oh, ow, g0.kh, g0.kw, g0.sh, g0.sw, g0.ph, g0.pw, countIncludePad, x.memoryFormat === 'channelsLast'] as const;
  const y = Tensor.empty([n, c, oh, ow], { dtype: x.dtype, device: x.device, memoryFormat: x.memoryFormat });
  kernels.avgpool2d_forward(y.buffer, x.bufferFor('avg_pool2d'), ...args);
  return record(y, 'avg_pool2d', [x], (g) => {
    const dx = Tensor.emptyLike(x);
    kernels.avgpool2d_backward(dx.buffer, g.buffer, ...args);
    return [dx];
  });
}

/** AdaptiveAvgPool2d(1): (N, C, H, W) -> (N, C, 1, 1). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: IntPair = 1): Tensor {
  requireFloat(x, 'adaptive_avg_pool2d', 'input');
  const [oh, ow] = pair(outputSize, 'output_size', 'adaptive_avg_pool2d', 1);
  if (oh !== 1 || ow !== 1) throw new ArgumentError(`adaptive_avg_pool2d: only output_size 1 is supported, got (${oh}, ${ow})`);
  if (x.ndim !== 4) throw new ShapeError(`adaptive_avg_pool2d: expected input (N, C, H, W), got ${shapeToString(x.shape)}`);
  const [n, c, h, w] = x.shape;
  const cl = x.memoryFormat === 'channelsLast';
  const y = Tensor.empty([n, c, 1, 1], { dtype: x.dtype, device: x.device, memoryFormat: x.memoryFormat });
  kernels.global_avgpool_forward(y.buffer, x.bufferFor('adaptive_avg_pool2d'), x.dtype, n, c, h * w, cl);
  return record(y, 'adaptive_avg_pool2d', [x], (g) => {
    const dx = Tensor.emptyLike(x);
    kernels.global_avgpool_backward(dx.buffer, g.buffer, x.dtype, n, c, h * w, cl);
    return [dx];
  });
}
