// 2-D convolution (native family: conv2d), PyTorch Conv2d semantics: stride, zero padding,
// dilation, groups (depthwise when groups == channels). Bias is added per output channel.
import { ArgumentError, ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, requireFloat32, requireSameDevice, shapeToString } from '../../tensor';
import { record } from '../tape';

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
  requireFloat32(x, op, 'input');
  requireFloat32(weight, op, 'weight');
  requireSameDevice(op, { input: x, weight, bias });
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
  const dims = [n, c, h, w, k, r, s, oh, ow, sh, sw, ph, pw, dh, dw, groups] as const;
  const y = Tensor.empty([n, k, oh, ow], { device: x.device });
  kernels.conv2d_forward(y.buffer, x.bufferFor(op), weight.bufferFor(op), ...dims);
  if (bias !== null) kernels.bias_add_forward(y.buffer, y.buffer, bias.bufferFor(op), 'float32', n, k, oh * ow);
  return record(y, op, [x, weight, bias], (g) => {
    let dx: Tensor | null = null;
    let dW: Tensor | null = null;
    let db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape, { device: x.device });
      kernels.conv2d_backward_input(dx.buffer, g.buffer, weight.buffer, ...dims);
    }
    if (weight.requiresGrad) {
      dW = Tensor.empty(weight.shape, { device: weight.device });
      kernels.conv2d_backward_weight(dW.buffer, g.buffer, x.buffer, ...dims);
    }
    if (bias !== null && bias.requiresGrad) {
      db = Tensor.empty([k], { device: bias.device });
      kernels.bias_add_backward(db.buffer, g.buffer, 'float32', n, k, oh * ow);
    }
    return [dx, dW, db];
  });
}
