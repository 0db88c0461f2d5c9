// The depthwise fast path of conv2d (native/cpu/conv2d_depthwise.cc: groups == in_channels ==
// out_channels, odd kernels, stride 1 or 2, dilation 1, float32 / bfloat16, NCHW / NHWC) against
// the float64 reference of test/reference/conv2d.ts, with the direct loops forced
// (LAYERWISE_DEPTHWISE=direct) and on the default choice of conv2d.cc. Shapes: ConvNeXt-T's
// depthwise convolutions (96 channels at 56x56 and 768 at 7x7, 7x7 kernel, pad 3; batch 2 to keep
// the float64 reference fast), and small ones covering stride 2, non-square strides, channel counts
// that are not a multiple of 8, pad 0 and pad > kernel - 1, planes narrower than a vector.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectClose, type Tolerance } from '../helpers/compare';
import { type FloatDType, type Nhwc, download, emptyOf, roundTo, scaleOf, upload } from '../helpers/dtype';
import { kernels } from '../helpers/native';
import { randn } from '../helpers/random';
import * as ref from '../reference/conv2d';

type ConvOp = 'conv2d_forward' | 'conv2d_backward_input' | 'conv2d_backward_weight';
const conv = (op: ConvOp) => kernels[op] as unknown as (...args: unknown[]) => void;

// float32: float accumulation (the weight gradient sums a plane in float, 8 lanes, then samples in
// double): 2e-5 of the output scale (max |reference|) and rtol 1e-4. bfloat16: float accumulation,
// one rounding to bfloat16 (<= 2^-9 relative); oneDNN (default path) may round partial sums once
// more: 1e-2 of the scale, rtol 1e-2.
function tolerance(dtype: FloatDType, expected: ArrayLike<number>): Tolerance {
  if (dtype === 'float32') return { atol: 2e-5 * scaleOf(expected), rtol: 1e-4 };
  return { atol: 1e-2 * scaleOf(expected), rtol: 1e-2 };
}

const dw = (batch: number, c: number, h: number, w: number, k: number, stride: [number, number], pad: number) =>
  ref.conv2dShape({ batch, inChannels: c, inH: h, inW: w, outChannels: c, kernel: [k, k], stride, pad: [pad, pad], groups: c });

const configs: [string, ref.Conv2dShape][] = [
  ['ConvNeXt stage 1: C=96 56x56 k7 pad3 batch=2', dw(2, 96, 56, 56, 7, [1, 1], 3)],
  ['ConvNeXt stage 4: C=768 7x7 k7 pad3 batch=2', dw(2, 768, 7, 7, 7, [1, 1], 3)],
  ['k3 stride=2 pad=1 C=16 9x9 batch=3', dw(3, 16, 9, 9, 3, [2, 2], 1)],
  ['k7 stride=2 pad=3 C=8 15x14 batch=2', dw(2, 8, 15, 14, 7, [2, 2], 3)],
  ['k5 stride=1 pad=2 C=5 10x13 batch=2 (channels not a multiple of 8)', dw(2, 5, 10, 13, 5, [1, 1], 2)],
  ['k3 stride=1,2 pad=0 C=24 11x40 batch=1', dw(1, 24, 11, 40, 3, [1, 2], 0)],
  ['k3 stride=1 pad=3 C=8 6x6 batch=2 (pad > kernel - 1)', dw(2, 8, 6, 6, 3, [1, 1], 3)],
  ['k1 stride=1 pad=0 C=16 5x37 batch=2', dw(2, 16, 5, 37, 1, [1, 1], 0)],
];

const cache = new Map<string, { x: Float32Array; w: Float32Array; dy: Float32Array; y: Float64Array; dx: Float64Array; dw: Float64Array }>();
function expected(i: number, dtype: FloatDType) {
  const key = `${i}/${dtype}`;
  let e = cache.get(key);
  if (e === undefined) {
    const s = configs[i][1];
    const n = ref.conv2dSizes(s);
    const x = roundTo(randn(n.x, 900 + i), dtype);
    const w = roundTo(randn(n.w, 950 + i), dtype);
    const dy = roundTo(randn(n.y, 990 + i), dtype);
    e = { x, w, dy, y: ref.conv2dForward(x, w, s), dx: ref.conv2dBackwardInput(dy, w, s), dw: ref.conv2dBackwardWeight(dy, x, s) };
    cache.set(key, e);
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
  const dwb = emptyOf(dtype, n.w);
  conv('conv2d_backward_weight')(dwb, dy, x, ...args);
  expectClose(download(dwb, dtype, n.w), e.dw, tolerance(dtype, e.dw), 'backward_weight');
}

for (const mode of ['direct', 'default']) {
  describe(`depthwise conv2d LAYERWISE_DEPTHWISE=${mode}`, () => {
    const saved = process.env.LAYERWISE_DEPTHWISE;
    beforeAll(() => {
      if (mode === 'default') delete process.env.LAYERWISE_DEPTHWISE;
      else process.env.LAYERWISE_DEPTHWISE = mode;
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.LAYERWISE_DEPTHWISE;
      else process.env.LAYERWISE_DEPTHWISE = saved;
    });
    for (const dtype of ['float32', 'bfloat16'] as const) {
      for (const channelsLast of [false, true]) {
        configs.forEach(([name], i) => {
          // Tolerance: tolerance(dtype) above.
          test(`${dtype} ${channelsLast ? 'NHWC' : 'NCHW'} ${name}`, () => runAll(i, dtype, channelsLast));
        });
      }
    }
  });
}

// Each child computes the weight gradient (both formats, forced direct loops) under its own
// OMP_NUM_THREADS (the OpenMP runtime reads it at start); the results must be bit-identical.
const CHILD = `
const { addon } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'native', 'addon.js'))});
const k = addon.kernels;
let s = 777;
const rand = (n) => Float32Array.from({ length: n }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32 - 0.5; });
const buf = (x) => { const b = new addon.NativeBuffer(0, x.byteLength); k.copy_from_host(b, x, x.byteLength); return b; };
const [n, c, h, kk, p] = [3, 48, 30, 7, 3];
const out = [];
for (const cl of [false, true]) {
  const dw = new addon.NativeBuffer(0, c * kk * kk * 4);
  k.conv2d_backward_weight(dw, buf(rand(n * c * h * h)), buf(rand(n * c * h * h)), 'float32', n, c, h, h, c, kk, kk, h, h, 1, 1, p, p, 1, 1, c, cl);
  const o = new Float32Array(c * kk * kk);
  k.copy_to_host(o, dw, o.byteLength);
  out.push(Buffer.from(o.buffer).toString('hex'));
}
console.log(JSON.stringify(out));
`;

test('the depthwise weight gradient is bit-identical under OMP_NUM_THREADS=1 and 3 (direct loops, NCHW and NHWC)', () => {
  const run = (threads: number): string[] => {
    const r = spawnSync(process.execPath, ['-e', CHILD], { env: { ...process.env, OMP_NUM_THREADS: String(threads), LAYERWISE_DEPTHWISE: 'direct' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as string[];
  };
  expect(run(3)).toEqual(run(1));
});
