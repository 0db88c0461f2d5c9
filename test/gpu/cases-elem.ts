// Extra CUDA-vs-CPU cases for the elementwise, activation, pool and window kernels (review-elem):
// the paths kernel-cases.ts does not reach. The 16-byte pack kernels (native/cuda/pointwise.cuh)
// with no tail, with only a tail and with both, and drop path's rows of packs; alpha == 1 (the
// fused-add path) of add_forward; the inner == 1 channel ops with channels that are not a
// multiple of the pack (scalar fallback) and that are (packs); channel reductions split over
// several slices (scratch partial sums and the finishing kernel); softmax rows held in 2, 8 or
// 32 registers a lane and the block-per-row kernels, both sides of the 1024-column boundary;
// overlapping average-pool windows and long global means; a negative Swin shift.
import type { KernelCase } from './harness';
import { randint, randu } from '../helpers/random';

const positive = (lo: number, hi: number) => (n: number, seed: number) => randu(n, seed, lo, hi);
const bytes01 = (n: number, seed: number) => randint(n, 2, seed);

export const extraCases: KernelCase[] = [
  // ---- elementwise ----
  { kernel: 'add_forward', label: 'alpha 1 (fused add), n=4103', args: { alpha: 1, beta: -0.75, n: 4103 } },
  { kernel: 'add_forward', label: 'alpha 1, n=7 (tail only)', args: { alpha: 1, beta: 1, n: 7 } },
  { kernel: 'mul_forward', label: 'n=4096 (packs only)', args: { n: 4096 } },
  { kernel: 'scale_forward', label: 'n=8', args: { alpha: -0.5, n: 8 } },
  { kernel: 'bias_add_forward', label: 'rows, channels 7 (scalar)', args: { outer: 13, channels: 7, inner: 1 } },
  { kernel: 'bias_add_forward', label: 'rows, channels 12 (packs in float32 only)', args: { outer: 9, channels: 12, inner: 1 } },
  { kernel: 'channel_mul_forward', label: 'nchw', args: { outer: 3, channels: 5, inner: 33 } },
  { kernel: 'bias_add_backward', label: 'rows, 3 slices', args: { outer: 1500, channels: 40, inner: 1 }, tolScale: 10 },
  { kernel: 'bias_add_backward', label: 'nchw, 4 slices', args: { outer: 100, channels: 3, inner: 1000 }, tolScale: 10 },
  { kernel: 'channel_mul_backward_scale', label: 'rows, 2 slices', args: { outer: 700, channels: 35, inner: 1 }, tolScale: 10 },
  // ---- activation ----
  { kernel: 'relu_forward', label: 'n=4096', args: { n: 4096 } },
  { kernel: 'relu_backward', label: 'n=5', args: { n: 5 } },
  { kernel: 'gelu_forward', label: 'n=8 (one pack)', args: { n: 8 } },
  { kernel: 'gelu_backward', label: 'n=4099', args: { n: 4099 } },
  { kernel: 'softmax_forward', label: '3 x 1024 (warp rows)', args: { rows: 3, cols: 1024 } },
  { kernel: 'softmax_forward', label: '3 x 1025 (block rows)', args: { rows: 3, cols: 1025 } },
  { kernel: 'softmax_backward', label: '64 x 49 (2 values a lane)', args: { rows: 64, cols: 49 }, inputs: { y: positive(0, 0.04) } },
  { kernel: 'softmax_backward', label: '3 x 1000 (32 values a lane)', args: { rows: 3, cols: 1000 }, inputs: { y: positive(0, 0.002) } },
  { kernel: 'softmax_backward', label: '2 x 3000 (block rows)', args: { rows: 2, cols: 3000 }, inputs: { y: positive(0, 0.001) }, tolScale: 10 },
  { kernel: 'dropout_forward', label: 'p 0.5 offset 0', args: { n: 1031, p: 0.5, seed: 7, offset: 0 } },
  { kernel: 'drop_path_forward', label: 'p 0.3, rows of packs', args: { batch: 6, inner: 256, p: 0.3, seed: 21, offset: 5 } },
  { kernel: 'drop_path_backward', label: 'p 0.5, rows of packs', args: { batch: 5, inner: 64, p: 0.5 }, inputs: { mask: bytes01 } },
  // ---- pool ----
  ...[false, true].flatMap((cl): KernelCase[] => {
    const layout = cl ? 'nhwc' : 'nchw';
    const geo = (k: number, s: number, p: number, inH: number) => {
      const out = Math.floor((inH + 2 * p - k) / s) + 1;
      return { batch: 2, channels: 3, in_h: inH, in_w: inH, out_h: out, out_w: out, kernel_h: k, kernel_w: k, stride_h: s, stride_w: s, pad_h: p, pad_w: p, channels_last: cl };
    };
    return [
      { kernel: 'avgpool2d_forward', label: `3x3 s1 p1 incl pad ${layout}`, args: { ...geo(3, 1, 1, 7), count_include_pad: true } },
      { kernel: 'avgpool2d_backward', label: `3x3 s1 p1 excl pad ${layout}`, args: { ...geo(3, 1, 1, 7), count_include_pad: false } },
      { kernel: 'maxpool2d_forward', label: `2x2 s2 p0 ${layout}`, args: geo(2, 2, 0, 8) },
      { kernel: 'global_avgpool_forward', label: `hw 3136 ${layout}`, args: { batch: 2, channels: 3, hw: 3136, channels_last: cl }, tolScale: 10 },
    ];
  }),
  // ---- window ----
  { kernel: 'window_partition_forward', label: 'shift -3', args: { batch: 2, h: 14, w: 7, c: 4, window_size: 7, shift: -3 } },
  { kernel: 'window_reverse_forward', label: 'no shift, c 1', args: { batch: 1, h: 8, w: 8, c: 1, window_size: 4, shift: 0 } },
  { kernel: 'window_mask_add_forward', label: '3 images x 4 windows', args: { batch: 3, num_windows: 4, heads: 2, n: 9 } },
];
