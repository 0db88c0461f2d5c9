// conv2d_forward / conv2d_backward_input / conv2d_backward_weight (native/cpu/conv2d*.cc) against
// the float64 reference of test/reference/conv2d.ts, on every implementation: the default choice,
// LAYERWISE_CONV=im2col and LAYERWISE_CONV=dnnl (skipped, loudly, in a build without oneDNN).
// The kernel reads LAYERWISE_CONV at each call, and vitest runs this file in its own process
// (pool: forks), so setting process.env here switches the path. The backward references are
// checked once against central finite differences of the reference forward.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NativeError } from '../../src/errors';
import { expectClose } from '../helpers/compare';
import { empty, f32, kernels, readF32 } from '../helpers/native';
import { randn } from '../helpers/random';
import * as ref from '../reference/conv2d';
import { dot, numericGradient } from '../reference/finite-difference';

type Shape = ref.Conv2dShape;
type ConvOp = 'conv2d_forward' | 'conv2d_backward_input' | 'conv2d_backward_weight';
// The typed signatures spell out 16 integers; these tests pass ref.conv2dArgs(shape) instead.
const conv = (op: ConvOp) => kernels[op] as unknown as (...args: unknown[]) => void;
const rand = (n: number, seed: number): Float32Array => Float32Array.from(randn(n, seed));

// Inputs are float32-rounded before the float64 reference sees them, so only the kernels'
// float32 accumulation differs: sums of up to ~600 products of N(0, 1) values, |error| ~1e-5.
const TOL = { atol: 1e-4, rtol: 1e-4 };

const configs: [string, Shape][] = [
  ['3x3 stride=1 pad=1 batch=2 3->4 7x7', ref.conv2dShape({ batch: 2, inChannels: 3, inH: 7, inW: 7, outChannels: 4, kernel: [3, 3], pad: [1, 1] })],
  ['3x3 stride=2 pad=1 batch=3 5->6 9x8', ref.conv2dShape({ batch: 3, inChannels: 5, inH: 9, inW: 8, outChannels: 6, kernel: [3, 3], stride: [2, 2], pad: [1, 1] })],
  ['3x3 dil=2 pad=2 batch=2 4->3 10x9', ref.conv2dShape({ batch: 2, inChannels: 4, inH: 10, inW: 9, outChannels: 3, kernel: [3, 3], pad: [2, 2], dilation: [2, 2] })],
  ['3x3 stride=2 pad=1 dil=2 groups=4 batch=2 8->12 11x10', ref.conv2dShape({ batch: 2, inChannels: 8, inH: 11, inW: 10, outChannels: 12, kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [2, 2], groups: 4 })],
  ['3x3 groups=2 batch=2 32->32 6x6 (16 channels per group)', ref.conv2dShape({ batch: 2, inChannels: 32, inH: 6, inW: 6, outChannels: 32, kernel: [3, 3], pad: [1, 1], groups: 2 })],
  ['depthwise 3x3 pad=1 groups=6 batch=2 6->6 8x7', ref.conv2dShape({ batch: 2, inChannels: 6, inH: 8, inW: 7, outChannels: 6, kernel: [3, 3], pad: [1, 1], groups: 6 })],
  ['depthwise 5x5 stride=2 pad=2 multiplier=2 groups=16 batch=3 16->32 9x9', ref.conv2dShape({ batch: 3, inChannels: 16, inH: 9, inW: 9, outChannels: 32, kernel: [5, 5], stride: [2, 2], pad: [2, 2], groups: 16 })],
  ['1x1 stride=1 pad=0 batch=3 6->5 5x4 (pointwise)', ref.conv2dShape({ batch: 3, inChannels: 6, inH: 5, inW: 4, outChannels: 5, kernel: [1, 1] })],
  ['1x1 stride=2 pad=0 batch=2 16->32 7x7', ref.conv2dShape({ batch: 2, inChannels: 16, inH: 7, inW: 7, outChannels: 32, kernel: [1, 1], stride: [2, 2] })],
  ['non-square kernel 3x1 stride=2,1 pad=1,0 batch=2 3->4 9x6', ref.conv2dShape({ batch: 2, inChannels: 3, inH: 9, inW: 6, outChannels: 4, kernel: [3, 1], stride: [2, 1], pad: [1, 0] })],
  ['non-square kernel 2x5 stride=1,3 pad=0,2 dil=2,1 batch=1 4->3 8x13', ref.conv2dShape({ batch: 1, inChannels: 4, inH: 8, inW: 13, outChannels: 3, kernel: [2, 5], stride: [1, 3], pad: [0, 2], dilation: [2, 1] })],
  ['odd sizes 5x5 stride=3 pad=2 batch=2 3->5 13x11', ref.conv2dShape({ batch: 2, inChannels: 3, inH: 13, inW: 11, outChannels: 5, kernel: [5, 5], stride: [3, 3], pad: [2, 2] })],
  ['stride=3 leaving trailing input unused batch=2 16->16 10x11', ref.conv2dShape({ batch: 2, inChannels: 16, inH: 10, inW: 11, outChannels: 16, kernel: [3, 3], stride: [3, 3] })],
  ['pad wider than half the kernel 3x3 pad=3 batch=1 2->2 4x5', ref.conv2dShape({ batch: 1, inChannels: 2, inH: 4, inW: 5, outChannels: 2, kernel: [3, 3], pad: [3, 3] })],
  ['many small images 3x3 pad=1 batch=19 4->8 4x4 (chunked images)', ref.conv2dShape({ batch: 19, inChannels: 4, inH: 4, inW: 4, outChannels: 8, kernel: [3, 3], pad: [1, 1] })],
  ['CNN layer 1 3x3 stride=1 pad=1 batch=2 1->32 28x28', ref.conv2dShape({ batch: 2, inChannels: 1, inH: 28, inW: 28, outChannels: 32, kernel: [3, 3], pad: [1, 1] })],
  ['CNN layer 2 3x3 stride=2 pad=1 batch=2 32->64 14x14', ref.conv2dShape({ batch: 2, inChannels: 32, inH: 14, inW: 14, outChannels: 64, kernel: [3, 3], stride: [2, 2], pad: [1, 1] })],
  ['CNN layer 3 3x3 stride=2 pad=1 batch=5 64->128 7x7', ref.conv2dShape({ batch: 5, inChannels: 64, inH: 7, inW: 7, outChannels: 128, kernel: [3, 3], stride: [2, 2], pad: [1, 1] })],
];

// Empty shapes: outputs of the right (possibly empty) size, zeros where a sum is empty.
const emptyConfigs: [string, Shape][] = [
  ['batch=0', ref.conv2dShape({ batch: 0, inChannels: 3, inH: 5, inW: 5, outChannels: 4, kernel: [3, 3], pad: [1, 1] })],
  ['in_channels=0', ref.conv2dShape({ batch: 2, inChannels: 0, inH: 5, inW: 5, outChannels: 4, kernel: [3, 3], pad: [1, 1] })],
  ['out_channels=0', ref.conv2dShape({ batch: 2, inChannels: 3, inH: 5, inW: 5, outChannels: 0, kernel: [3, 3], pad: [1, 1] })],
  ['in_h=0 with padding (all-padding windows)', ref.conv2dShape({ batch: 2, inChannels: 3, inH: 0, inW: 4, outChannels: 2, kernel: [1, 3], pad: [1, 1] })],
];

function runAll(s: Shape, seed: number, tol: { atol: number; rtol: number }): void {
  const n = ref.conv2dSizes(s);
  const x = rand(n.x, seed);
  const w = rand(n.w, seed + 1);
  const dy = rand(n.y, seed + 2);
  const args = ref.conv2dArgs(s);
  const y = empty(n.y);
  conv('conv2d_forward')(y, f32(x), f32(w), 'float32', ...args, false);
  expectClose(readF32(y, n.y), ref.conv2dForward(x, w, s), tol, 'forward');
  const dx = empty(n.x);
  conv('conv2d_backward_input')(dx, f32(dy), f32(w), 'float32', ...args, false);
  expectClose(readF32(dx, n.x), ref.conv2dBackwardInput(dy, w, s), tol, 'backward_input');
  const dw = empty(n.w);
  conv('conv2d_backward_weight')(dw, f32(dy), f32(x), 'float32', ...args, false);
  expectClose(readF32(dw, n.w), ref.conv2dBackwardWeight(dy, x, s), tol, 'backward_weight');
}

// Whether LAYERWISE_CONV=dnnl works in this build (it fails with ERR_NATIVE_NOT_IMPLEMENTED otherwise).
function haveDnnl(): boolean {
  const before = process.env.LAYERWISE_CONV;
  process.env.LAYERWISE_CONV = 'dnnl';
  try {
    const s = ref.conv2dShape({ batch: 1, inChannels: 1, inH: 1, inW: 1, outChannels: 1, kernel: [1, 1] });
    conv('conv2d_forward')(empty(1), f32([1]), f32([1]), 'float32', ...ref.conv2dArgs(s), false);
    return true;
  } catch (e) {
    if ((e as NativeError).code === 'ERR_NATIVE_NOT_IMPLEMENTED') return false;
    throw e;
  } finally {
    if (before === undefined) delete process.env.LAYERWISE_CONV;
    else process.env.LAYERWISE_CONV = before;
  }
}

const dnnlBuilt = haveDnnl();
if (!dnnlBuilt) console.warn('conv2d tests: this addon was built without oneDNN; LAYERWISE_CONV=dnnl is SKIPPED');

for (const path of ['default', 'im2col', 'dnnl']) {
  describe.skipIf(path === 'dnnl' && !dnnlBuilt)(`conv2d path=${path}`, () => {
    const saved = process.env.LAYERWISE_CONV;
    beforeAll(() => {
      if (path === 'default') delete process.env.LAYERWISE_CONV;
      else process.env.LAYERWISE_CONV = path;
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.LAYERWISE_CONV;
      else process.env.LAYERWISE_CONV = saved;
    });
    configs.forEach(([name, s], i) => {
      // TOL: see above (float32 accumulation against float64).
      test(`conv2d forward/backward_input/backward_weight ${name} path=${path}`, () => runAll(s, 100 + 10 * i, TOL));
    });
    for (const [name, s] of emptyConfigs) {
      // Exact: nothing to sum, or a sum of zeros.
      test(`conv2d empty ${name} path=${path}`, () => runAll(s, 7, { atol: 0, rtol: 0 }));
    }
  });
}

describe('conv2d reference backward vs finite differences', () => {
  // float64 central differences with eps 1e-6 of a loss linear in x and in w: exact up to rounding.
  const FD = { atol: 1e-7, rtol: 1e-6 };
  const s = ref.conv2dShape({ batch: 2, inChannels: 4, inH: 6, inW: 5, outChannels: 6, kernel: [3, 2], stride: [2, 1], pad: [1, 1], dilation: [2, 1], groups: 2 });
  const n = ref.conv2dSizes(s);
  const x = randn(n.x, 1);
  const w = randn(n.w, 2);
  const dy = randn(n.y, 3);
  test('conv2dBackwardInput = d sum(conv2dForward * dy) / dx (stride=2,1 pad=1 dil=2,1 groups=2)', () => {
    const numeric = numericGradient((xv) => dot(ref.conv2dForward(xv, w, s), dy), x);
    expectClose(ref.conv2dBackwardInput(dy, w, s), numeric, FD);
  });
  test('conv2dBackwardWeight = d sum(conv2dForward * dy) / dw (stride=2,1 pad=1 dil=2,1 groups=2)', () => {
    const numeric = numericGradient((wv) => dot(ref.conv2dForward(x, wv, s), dy), w);
    expectClose(ref.conv2dBackwardWeight(dy, x, s), numeric, FD);
  });
});

describe('conv2d argument errors', () => {
  const s = ref.conv2dShape({ batch: 2, inChannels: 4, inH: 5, inW: 5, outChannels: 6, kernel: [3, 3], pad: [1, 1] });
  const n = ref.conv2dSizes(s);
  const call = (op: ConvOp, out: unknown, shape: Shape) =>
    conv(op)(out, f32(new Float32Array(1000)), f32(new Float32Array(1000)), 'float32', ...ref.conv2dArgs(shape), false);
  const nativeError = (fn: () => void): NativeError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(NativeError);
      return e as NativeError;
    }
    throw new Error('expected a NativeError');
  };

  for (const op of ['conv2d_forward', 'conv2d_backward_input', 'conv2d_backward_weight'] as const) {
    test(`${op} too-small output buffer gives ERR_SHAPE naming the op`, () => {
      const e = nativeError(() => call(op, empty(3), s));
      expect(e.code).toBe('ERR_SHAPE');
      expect(e.message).toContain(op);
    });
    test(`${op} groups=3 not dividing in_channels=4 gives ERR_NATIVE_INVALID_ARGUMENT`, () => {
      const e = nativeError(() => call(op, empty(n.y + n.x), { ...s, groups: 3 }));
      expect(e.code).toBe('ERR_NATIVE_INVALID_ARGUMENT');
      expect(e.op).toBe(op);
      expect(e.message).toMatch(/groups/);
    });
  }
  test('conv2d_forward out_h inconsistent with the other sizes is rejected', () => {
    const e = nativeError(() => call('conv2d_forward', empty(n.y * 2), { ...s, outH: s.outH + 1 }));
    expect(e.op).toBe('conv2d_forward');
    expect(e.message).toMatch(/out_h/);
  });
  test('conv2d_forward stride=0 and kernel larger than the padded input are rejected', () => {
    expect(nativeError(() => call('conv2d_forward', empty(n.y), { ...s, strideH: 0 })).message).toMatch(/stride_h/);
    const big = { ...s, kernelH: 9, outH: 1 };
    expect(nativeError(() => call('conv2d_forward', empty(n.y), big)).message).toMatch(/larger than the padded input/);
  });
  test('conv2d_forward LAYERWISE_CONV=bogus names the variable and the op', () => {
    const saved = process.env.LAYERWISE_CONV;
    process.env.LAYERWISE_CONV = 'bogus';
    try {
      const e = nativeError(() => call('conv2d_forward', empty(n.y), s));
      expect(e.op).toBe('conv2d_forward');
      expect(e.message).toMatch(/LAYERWISE_CONV/);
    } finally {
      if (saved === undefined) delete process.env.LAYERWISE_CONV;
      else process.env.LAYERWISE_CONV = saved;
    }
  });
});
