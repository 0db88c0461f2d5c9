#!/usr/bin/env node
// Times the depthwise convolution (groups == channels) of ConvNeXt-T's blocks through the
// conv2d_* kernels: forward, backward input, backward weight, for float32 / bfloat16 and NCHW /
// NHWC, best of --iters after a warmup (ms). Run after `npm run build`; LAYERWISE_CONV selects
// the path as in native/cpu/conv2d.cc (LAYERWISE_DEPTHWISE=generic turns the direct loops off).
// The PyTorch side: scripts/bench/torch_depthwise.py with the same shapes.
//   node scripts/bench/depthwise.mjs [--iters 10]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { addon } = require('../../lib/native/addon.js');
const k = addon.kernels;
const iters = Number(process.argv[process.argv.indexOf('--iters') + 1] || 10);
const SHAPES = [
  { n: 8, c: 96, h: 56, k: 7, s: 1 },
  { n: 8, c: 768, h: 7, k: 7, s: 1 },
  { n: 8, c: 96, h: 56, k: 3, s: 2 },
];

function buf(n, bytes, value) {
  const b = new addon.NativeBuffer(0, n * bytes);
  k.fill(b, bytes === 4 ? 'float32' : 'bfloat16', value, n);
  return b;
}

function best(fn) {
  fn();
  let t = Infinity;
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t = Math.min(t, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return t;
}

for (const { n, c, h, k: ks, s } of SHAPES) {
  const pad = (ks - 1) / 2;
  const oh = Math.floor((h + 2 * pad - ks) / s) + 1;
  for (const dtype of ['float32', 'bfloat16']) {
    for (const cl of [false, true]) {
      const es = dtype === 'float32' ? 4 : 2;
      const x = buf(n * c * h * h, es, 0.5);
      const y = buf(n * c * oh * oh, es, 0);
      const w = buf(c * ks * ks, es, 0.1);
      const args = [dtype, n, c, h, h, c, ks, ks, oh, oh, s, s, pad, pad, 1, 1, c, cl];
      const fwd = best(() => k.conv2d_forward(y, x, w, ...args));
      const bin = best(() => k.conv2d_backward_input(x, y, w, ...args));
      const bw = best(() => k.conv2d_backward_weight(w, y, x, ...args));
      console.log(JSON.stringify({ shape: `N${n} C${c} ${h}x${h} k${ks} s${s}`, dtype, format: cl ? 'NHWC' : 'NCHW', forward_ms: +fwd.toFixed(3), backward_input_ms: +bin.toFixed(3), backward_weight_ms: +bw.toFixed(3) }));
      for (const b of [x, y, w]) b.free();
    }
  }
}
