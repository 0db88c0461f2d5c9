// conv2d_forward / conv2d_backward_input / conv2d_backward_weight in every float dtype and both
// memory formats (NCHW, channels_last = NHWC activations), on every path (default, im2col, dnnl),
// against the float64 reference of test/reference/conv2d.ts. Which implementation runs:
// float32 NCHW as conv2d.test.ts; float32 NHWC and bfloat16 on oneDNN (path dnnl / default),
// float16 and path im2col staged through float32 NCHW.
// The NHWC results are compared, after converting back to NCHW, with the same reference as the
// NCHW ones, so the two formats agree within the stated rounding.
import { afterAll, beforeAll, describe, test } from 'vitest';
import { expectClose, type Tolerance } from '../helpers/compare';
import { type FloatDType, type Nhwc, download, emptyOf, roundTo, scaleOf, upload } from '../helpers/dtype';
import { kernels } from '../helpers/native';
import { randn } from '../helpers/random';
import * as ref from '../reference/conv2d';

type Shape = ref.Conv2dShape;
type ConvOp = 'conv2d_forward' | 'conv2d_backward_input' | 'conv2d_backward_weight';
const conv = (op: ConvOp) => kernels[op] as unknown as (...args: unknown[]) => void;

// Tolerances, per dtype, of the reference computed on the dtype-rounded inputs:
//   float32: float32 accumulation of up to ~600 products of N(0, 1) values (as conv2d.test.ts).
//   bfloat16: accumulation in float32, then one rounding of the output to bfloat16 (relative
//     error <= 2^-9); oneDNN's bf16 kernels may round partial sums once more. 1e-2 of the output
//     scale (max |reference|), and rtol 1e-2.
//   float16: float32 compute, one rounding to float16 (<= 2^-11 relative): 2e-3 of the scale.
function tolerance(dtype: FloatDType, expected: ArrayLike<number>): Tolerance {
  if (dtype === 'float32') return { atol: 1e-4, rtol: 1e-4 };
  const r = dtype === 'bfloat16' ? 1e-2 : 2e-3;
  return { atol: r * scaleOf(expected), rtol: r };
}

const configs: [string, Shape][] = [
  ['3x3 stride=1 pad=1 batch=2 3->4 7x7', ref.conv2dShape({ batch: 2, inChannels: 3, inH: 7, inW: 7, outChannels: 4, kernel: [3, 3], pad: [1, 1] })],
  ['3x3 stride=2 pad=1 dil=2 groups=4 batch=2 8->12 11x10', ref.conv2dShape({ batch: 2, inChannels: 8, inH: 11, inW: 10, outChannels: 12, kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [2, 2], groups: 4 })],
  ['3x3 groups=2 batch=2 32->32 6x6', ref.conv2dShape({ batch: 2, inChannels: 32, inH: 6, inW: 6, outChannels: 32, kernel: [3, 3], pad: [1, 1], groups: 2 })],
  ['depthwise 5x5 stride=2 pad=2 multiplier=2 groups=16 batch=3 16->32 9x9', ref.conv2dShape({ batch: 3, inChannels: 16, inH: 9, inW: 9, outChannels: 32, kernel: [5, 5], stride: [2, 2], pad: [2, 2], groups: 16 })],
  ['1x1 stride=2 batch=2 16->32 7x7', ref.conv2dShape({ batch: 2, inChannels: 16, inH: 7, inW: 7, outChannels: 32, kernel: [1, 1], stride: [2, 2] })],
  ['non-square 2x5 stride=1,3 pad=0,2 dil=2,1 batch=1 4->3 8x13', ref.conv2dShape({ batch: 1, inChannels: 4, inH: 8, inW: 13, outChannels: 3, kernel: [2, 5], stride: [1, 3], pad: [0, 2], dilation: [2, 1] })],
  ['stride=3 trailing input unused batch=2 16->16 10x11', ref.conv2dShape({ batch: 2, inChannels: 16, inH: 10, inW: 11, outChannels: 16, kernel: [3, 3], stride: [3, 3] })],
  ['CNN layer 1 3x3 pad=1 batch=2 1->32 28x28', ref.conv2dShape({ batch: 2, inChannels: 1, inH: 28, inW: 28, outChannels: 32, kernel: [3, 3], pad: [1, 1] })],
  ['CNN layer 2 3x3 stride=2 pad=1 batch=2 32->64 14x14', ref.conv2dShape({ batch: 2, inChannels: 32, inH: 14, inW: 14, outChannels: 64, kernel: [3, 3], stride: [2, 2], pad: [1, 1] })],
];

interface Expected {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  y: Float64Array;
  dx: Float64Array;
  dw: Float64Array;
}

// The reference of each (config, dtype) on inputs rounded to that dtype, computed once.
const expectedCache = new Map<string, Expected>();
function expected(i: number, dtype: FloatDType): Expected {
  const key = `${i}/${dtype}`;
  let e = expectedCache.get(key);
  if (e === undefined) {
    const s = configs[i][1];
    const n = ref.conv2dSizes(s);
    const seed = 500 + 10 * i;
    const x = roundTo(randn(n.x, seed), dtype);
    const w = roundTo(randn(n.w, seed + 1), dtype);
    const dy = roundTo(randn(n.y, seed + 2), dtype);
    e = {
      x, w, dy,
      y: ref.conv2dForward(x, w, s),
      dx: ref.conv2dBackwardInput(dy, w, s),
      dw: ref.conv2dBackwardWeight(dy, x, s),
    };
    expectedCache.set(key, e);
  }
  return e;
}

function runAll(i: number, dtype: FloatDType, channelsLast: boolean): void {
  const s = configs[i][1];
  const n = ref.conv2dSizes(s);
  const e = expected(i, dtype);
  const inShape: Nhwc = channelsLast ? [s.batch, s.inChannels, s.inH, s.inW] : null;
  const outShape: Nhwc = channelsLast ? [s.batch, s.outChannels, s.outH, s.outW] : null;
  const args = [dtype, ...ref.conv2dArgs(s), channelsLast];
  const x = upload(e.x, dtype, inShape);
  const w = upload(e.w, dtype);
  const dy = upload(e.dy, dtype, outShape);

  const y = emptyOf(dtype, n.y);
  conv('conv2d_forward')(y, x, w, ...args);
  expectClose(download(y, dtype, n.y, outShape), e.y, tolerance(dtype, e.y), 'forward');
  const dx = emptyOf(dtype, n.x);
  conv('conv2d_backward_input')(dx, dy, w, ...args);
  expectClose(download(dx, dtype, n.x, inShape), e.dx, tolerance(dtype, e.dx), 'backward_input');
  const dw = emptyOf(dtype, n.w);
  conv('conv2d_backward_weight')(dw, dy, x, ...args);
  expectClose(download(dw, dtype, n.w), e.dw, tolerance(dtype, e.dw), 'backward_weight');
}

const dtypes: FloatDType[] = ['float32', 'bfloat16', 'float16'];

// Whether LAYERWISE_CONV=dnnl works in this build (it fails with ERR_NATIVE_NOT_IMPLEMENTED otherwise).
function haveDnnl(): boolean {
  const before = process.env.LAYERWISE_CONV;
  process.env.LAYERWISE_CONV = 'dnnl';
  try {
    const s = ref.conv2dShape({ batch: 1, inChannels: 1, inH: 1, inW: 1, outChannels: 1, kernel: [1, 1] });
    conv('conv2d_forward')(emptyOf('float32', 1), upload([1], 'float32'), upload([1], 'float32'), 'float32', ...ref.conv2dArgs(s), false);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_NATIVE_NOT_IMPLEMENTED') return false;
    throw e;
  } finally {
    if (before === undefined) delete process.env.LAYERWISE_CONV;
    else process.env.LAYERWISE_CONV = before;
  }
}
const dnnlBuilt = haveDnnl();

for (const path of ['default', 'im2col', 'dnnl']) {
  describe.skipIf(path === 'dnnl' && !dnnlBuilt)(`conv2d dtypes and formats path=${path}`, () => {
    const saved = process.env.LAYERWISE_CONV;
    beforeAll(() => {
      if (path === 'default') delete process.env.LAYERWISE_CONV;
      else process.env.LAYERWISE_CONV = path;
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.LAYERWISE_CONV;
      else process.env.LAYERWISE_CONV = saved;
    });
    for (const dtype of dtypes) {
      for (const channelsLast of [false, true]) {
        const format = channelsLast ? 'NHWC' : 'NCHW';
        configs.forEach(([name, _s], i) => {
          // Tolerance: tolerance(dtype) above.
          test(`conv2d ${dtype} ${format} ${name} path=${path}`, () => runAll(i, dtype, channelsLast));
        });
      }
    }
  });
}
