// Extra CUDA-vs-CPU cases for the optimizer and copy kernels (review of native/cuda/optim.cu,
// optim_multi_tensor.cuh and copy.cu), in the format of kernel-cases.ts: the multi-tensor launch
// split (more than 192 tensors, empty tensors between them, tensors of several chunks and a last
// partial chunk), SGD's first momentum step (buf = g, dampening ignored), AdamW's other lerp branch
// (1 - beta1 >= 0.5) with the float16 unscale fused in, the check-only unscale, NG's rescale (every
// beta 0, so x is never read), permutes of 8 dimensions, normalize_u8 at sizes that are not
// multiples of anything, fill and cast to and from the integer types, and block copies at odd
// offsets.
import type { KernelCase } from './harness';
import { randint, randu } from '../helpers/random';

const pixels = (n: number, seed: number) => randint(n, 256, seed);

// 200 tensors (two launches of at most 192): sizes cycling through empty, tiny and odd ones, with
// tensors of 2 and 3 chunks (the last one partial) in the first launch and across the split.
const SIZES = [0, 1, 3, 17, 4099, 0, 5, 33];
const many = Array.from({ length: 200 }, (_, t) => (t === 10 ? 130001 : t === 191 ? 65537 : t === 192 ? 65536 : SIZES[t % SIZES.length]));
const manyScales = () => many.map((_, t) => 0.5 + (t % 7) * 0.25);
const manyDecays = many.map((_, t) => (t % 3 === 0 ? 0 : 1e-4 * (t % 5)));

export const extraCases: KernelCase[] = [
  // ---- optim ----
  {
    kernel: 'sgd_step', label: '200 tensors with empty ones, first momentum step (buf = g)',
    args: { host_numels: many, host_weight_decays: manyDecays, num_tensors: many.length, lr: 0.05, momentum: 0.9, dampening: 0.1, nesterov: false, first_step: true, inv_scale: 1 },
    inputs: { lr_scales: manyScales, found_inf: () => [0] },
  },
  {
    kernel: 'sgd_step', label: '200 tensors, later step, fp16 unscale fused',
    args: { host_numels: many, host_weight_decays: manyDecays, num_tensors: many.length, lr: 0.05, momentum: 0.9, dampening: 0.1, nesterov: false, first_step: false, inv_scale: 1 / 256 },
    inputs: { lr_scales: manyScales, found_inf: () => [0] },
  },
  {
    kernel: 'adamw_step', label: 'beta1 0.3 (lerp weight >= 0.5), 200 tensors, unscale fused',
    args: {
      host_numels: many, host_weight_decays: manyDecays, num_tensors: many.length, lr: 1e-3, beta1: 0.3, beta2: 0.99, eps: 1e-6,
      bias_correction1: 1 - 0.3 ** 2, bias_correction2: 1 - 0.99 ** 2, inv_scale: 1 / 1024,
    },
    inputs: { exp_avg_sqs: (n, s) => randu(n, s, 0, 1), lr_scales: manyScales, found_inf: () => [0] },
  },
  {
    kernel: 'multi_unscale_found_inf', label: 'check only (inv_scale 1), NaN in the last chunk of a 2-chunk tensor',
    args: { host_numels: [0, 70000, 9], num_tensors: 3, inv_scale: 1 },
    inputs: { found_inf: () => [0], grads: (n, s) => { const v = Array.from(randu(n, s, -1, 1)); if (n === 70000) v[69999] = NaN; return v; } },
  },
  {
    kernel: 'multi_axpby', label: 'every beta 0 (NG rescale), NaN in x unread',
    args: { host_numels: [5, 0, 66000], host_alphas: [0.5, 2, -3], host_betas: [0, 0, 0], num_tensors: 3 },
    inputs: { xs: (n) => new Array<number>(n).fill(NaN) },
  },
  // ---- copy ----
  {
    kernel: 'permute', label: '8-d',
    args: { numel: 2 * 1 * 3 * 2 * 1 * 2 * 3 * 2, ndim: 8, host_shape: [2, 1, 3, 2, 1, 2, 3, 2], host_perm: [7, 0, 6, 1, 5, 2, 4, 3] },
  },
  ...[false, true].flatMap((xl) => [false, true].map((yl): KernelCase => ({
    kernel: 'normalize_u8', label: `4 channels, x ${xl ? 'nhwc' : 'nchw'} y ${yl ? 'nhwc' : 'nchw'}, n=5 hw=33`,
    args: { n: 5, c: 4, hw: 33, x_channels_last: xl, y_channels_last: yl, host_mean: [0.1, 0.2, 0.3, 0.4], host_std: [0.5, 0.25, 1, 2] },
    inputs: { x: pixels },
  }))),
  { kernel: 'fill', label: 'uint8 clamped', args: { dtype: 'uint8', value: 300, n: 77 } },
  { kernel: 'fill', label: 'int32 negative truncated', args: { dtype: 'int32', value: -7.9, n: 5 } },
  ...([['int32', 'float16'], ['uint8', 'bfloat16'], ['float16', 'int32'], ['bfloat16', 'uint8'], ['int32', 'uint8']] as const).map(([from, to]): KernelCase => ({
    kernel: 'cast', label: `${from} -> ${to}`, args: { y_dtype: to, x_dtype: from, n: 1029 },
    inputs: { x: (n, s) => randu(n, s, -300, 300) },
  })),
  { kernel: 'copy_block', label: 'uint8 odd offsets (byte words)', args: { dtype: 'uint8', outer: 7, block: 5, src_stride: 9, src_offset: 1, dst_stride: 11, dst_offset: 3 }, inputs: { src: pixels, dst: pixels } },
  { kernel: 'copy_block', label: 'float32 16-byte words', args: { dtype: 'float32', outer: 6, block: 8, src_stride: 12, src_offset: 4, dst_stride: 16, dst_offset: 8 } },
];
