// 2-D convolution (native family: conv2d), PyTorch Conv2d semantics: stride, zero padding,
// dilation, groups (depthwise when groups == channels). Bias is added per output channel.
// Any float dtype (input, weight and bias must agree, except under autocast, which casts all three
// to its dtype first: conv2d is on PyTorch's lower-precision list); the output and the input's
// gradient keep the input's memory format (channelsLast = NHWC), the weight stays OIHW.
import { ArgumentError, ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, requireSameDevice, shapeToString } from '../../tensor';
import { record } from '../tape';
import { lowPrecisionOperands } from './lowprecision';

export type IntPair = number | readonly [number, number];

export function pair(value: IntPair, name: string, op: string, min: number): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v >= min)) {
    throw new ArgumentError(`${op}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(value)}`);
  }
  return p;
}

export interface Conv2dOptions {
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
  groups?: number;
}

/** torch.nn.functional.conv2d(x (N,C,H,W), weight (K, C/groups, R, S), bias (K)). */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  ({ input: x, weight, bias } = lowPrecisionOperands(op, { input: x, weight, bias }));
  requireSameDevice(op, { input: x, weight, bias });
  // The kernels read the weight as OIHW; a channelsLast weight is converted (its gradient back).
  if (weight.memoryFormat !== 'contiguous') weight = weight.contiguous();
  const [sh, sw] = pair(options.stride ?? 1, 'stride', op, 1);
  const [ph, pw] = pair(options.padding ?? 0, 'padding', op, 0);
  const [dh, dw] = pair(options.dilation ?? 1, 'dilation', op, 1);
  const groups = options.groups ?? 1;
  const describe = () => `input ${shapeToString(x.shape)}, weight ${shapeToString(weight.shape)}, groups ${groups}`;
  if (x.ndim !== 4 || weight.ndim !== 4) throw new ShapeError(`${op}: expected 4-D input and weight, got ${describe()}`);
  const [n, c, h, w] = x.shape;
  const [k, cPerGroup, r, s] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || k % groups !== 0 || cPerGroup !== c / groups) {
    throw new ShapeError(`${op}: channels do not match: ${describe()}`);
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== k)) {
    throw new ShapeError(`${op}: bias ${shapeToString(bias.shape)} does not match ${k} output channels`);
  }
  const oh = Math.floor((h + 2 * ph - dh * (r - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (s - 1) - 1) / sw) + 1;
  if (oh < 1 || ow < 1) throw new ShapeError(`${op}: output would be empty (${oh}x${ow}) for ${describe()}, padding ${ph},${pw}`);
  const dtype = x.dtype;
  const channelsLast = x.memoryFormat === 'channelsLast';
  const dims = [n, c, h, w, k, r, s, oh, ow, sh, sw, ph, pw, dh, dw, groups] as const;
  // The per-channel bias layout (outer, channels, inner): NHWC is (N*H*W, C, 1), NCHW (N, C, H*W).
  const biasLayout = channelsLast ? ([n * oh * ow, k, 1] as const) : ([n, k, oh * ow] as const);
  const y = Tensor.empty([n, k, oh, ow], { dtype, device: x.device, memoryFormat: x.memoryFormat });
  kernels.conv2d_forward(y.buffer, x.bufferFor(op), weight.bufferFor(op), dtype, ...dims, channelsLast);
  if (bias !== null) kernels.bias_add_forward(y.buffer, y.buffer, bias.bufferFor(op), dtype, ...biasLayout);
  return record(y, op, [x, weight, bias], (g) => {
    let dx: Tensor | null = null;
    let dW: Tensor | null = null;
    let db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.emptyLike(x);
      kernels.conv2d_backward_input(dx.buffer, g.buffer, weight.buffer, dtype, ...dims, channelsLast);
    }
    if (weight.requiresGrad) {
      dW = Tensor.emptyLike(weight);
      kernels.conv2d_backward_weight(dW.buffer, g.buffer, x.buffer, dtype, ...dims, channelsLast);
    }
    if (bias !== null && bias.requiresGrad) {
      db = Tensor.emptyLike(bias);
      kernels.bias_add_backward(db.buffer, g.buffer, dtype, ...biasLayout);
    }
    return [dx, dW, db];
  });
}
