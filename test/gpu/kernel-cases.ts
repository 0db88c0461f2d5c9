// The kernel cases of the CUDA-vs-CPU suite: at least one per kernel of kernels.h (test/gpu/
// cases.test.ts checks that none is missing and that each runs on the CPU backend), with the
// layouts (NCHW and NHWC), strides, transposes and odd sizes that a GPU kernel gets wrong first:
// sizes that are not multiples of a warp or a vector width, a single row, broadcast strides.
// Inputs default to normal(0, 1) values; a case gives its own where random data is invalid
// (labels, indices, masks, saved statistics, variances).
import type { CaseArgs, KernelCase } from './harness';
import { randint, randu } from '../helpers/random';

const labels = (classes: number) => (n: number, seed: number) => randint(n, classes, seed);
const positive = (lo: number, hi: number) => (n: number, seed: number) => randu(n, seed, lo, hi);
const bytes01 = (n: number, seed: number) => randint(n, 2, seed);
const pixels = (n: number, seed: number) => randint(n, 256, seed);

/** The copy kernels that the harness itself relies on, and the allocator entries: covered by every case. */
export const HARNESS_KERNELS = ['device_alloc', 'device_free', 'device_synchronize', 'copy_from_host', 'copy_to_host'];

function conv(label: string, a: Partial<CaseArgs> & { kernel_h: number; stride_h: number; pad_h: number; groups: number; channels_last: boolean }): CaseArgs {
  const batch = 2;
  const in_channels = (a.in_channels as number) ?? 8;
  const out_channels = (a.out_channels as number) ?? 12;
  const in_h = (a.in_h as number) ?? 9;
  const dilation = (a.dilation_h as number) ?? 1;
  const out_h = Math.floor((in_h + 2 * a.pad_h - dilation * (a.kernel_h - 1) - 1) / a.stride_h) + 1;
  void label;
  return {
    batch, in_channels, in_h, in_w: in_h, out_channels, kernel_h: a.kernel_h, kernel_w: a.kernel_h, out_h, out_w: out_h,
    stride_h: a.stride_h, stride_w: a.stride_h, pad_h: a.pad_h, pad_w: a.pad_h, dilation_h: dilation, dilation_w: dilation,
    groups: a.groups, channels_last: a.channels_last,
  };
}

const CONV_CONFIGS: { label: string; args: CaseArgs }[] = [
  { label: '3x3 s1 p1', args: conv('', { kernel_h: 3, stride_h: 1, pad_h: 1, groups: 1, channels_last: false }) },
  { label: '3x3 s2 p1 nhwc', args: conv('', { kernel_h: 3, stride_h: 2, pad_h: 1, groups: 1, channels_last: true }) },
  { label: '1x1 s1', args: conv('', { kernel_h: 1, stride_h: 1, pad_h: 0, groups: 1, channels_last: false }) },
  { label: '7x7 depthwise', args: conv('', { kernel_h: 7, stride_h: 1, pad_h: 3, groups: 8, in_channels: 8, out_channels: 8, channels_last: false }) },
  { label: '7x7 depthwise nhwc', args: conv('', { kernel_h: 7, stride_h: 1, pad_h: 3, groups: 8, in_channels: 8, out_channels: 8, channels_last: true }) },
  { label: '3x3 groups 2 dilation 2', args: conv('', { kernel_h: 3, stride_h: 1, pad_h: 2, dilation_h: 2, groups: 2, channels_last: false }) },
];

const convCases: KernelCase[] = ['conv2d_forward', 'conv2d_backward_input', 'conv2d_backward_weight'].flatMap((kernel) =>
  CONV_CONFIGS.map(({ label, args }) => ({ kernel, label, args, tf32: true, tolScale: 2 })));

function pool(channels_last: boolean, kernel: number, stride: number, pad: number, in_h = 11): CaseArgs {
  const out_h = Math.floor((in_h + 2 * pad - kernel) / stride) + 1;
  return { batch: 2, channels: 5, in_h, in_w: in_h, out_h, out_w: out_h, kernel_h: kernel, kernel_w: kernel, stride_h: stride, stride_w: stride, pad_h: pad, pad_w: pad, channels_last };
}

// maxpool2d_backward takes the forward's indices: for each output, a position (flat in in_h*in_w)
// inside its window, as a forward would produce (a GPU gather formulation relies on that).
const maxIndices = (n: number, seed: number, a: CaseArgs) => {
  const [oh, ow, ih, iw] = [a.out_h, a.out_w, a.in_h, a.in_w] as number[];
  const [k, s, p, c] = [a.kernel_h, a.stride_h, a.pad_h, a.channels] as number[];
  const pick = randint(2 * n, k, seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    // NCHW: i = ((b * c + ch) * oh + y) * ow + x; NHWC: i = ((b * oh + y) * ow + x) * c + ch.
    const pos = a.channels_last ? Math.floor(i / c) % (oh * ow) : i % (oh * ow);
    const y = Math.floor(pos / ow);
    const x = pos % ow;
    const r = Math.min(ih - 1, Math.max(0, y * s - p + pick[2 * i]));
    const q = Math.min(iw - 1, Math.max(0, x * s - p + pick[2 * i + 1]));
    out[i] = r * iw + q;
  }
  return out;
};

const gemm = (m: number, n: number, k: number, trans_a: boolean, trans_b: boolean, batch = 3, beta = 0): CaseArgs =>
  ({ batch, m, n, k, trans_a, trans_b, alpha: 1.25, beta, stride_a: m * k, stride_b: k * n, stride_c: m * n });

const ATTN: CaseArgs = {
  // q @ k^T over 2 images x 3 heads, tokens 17, head dim 8, rows of a (tokens, 3 heads x 8) matrix.
  outer: 2, inner: 3, m: 17, n: 17, k: 8, trans_a: false, trans_b: true, alpha: 0.35, beta: 0,
  a_outer: 17 * 24, a_inner: 8, lda: 24, b_outer: 17 * 24, b_inner: 8, ldb: 24, c_outer: 3 * 17 * 17, c_inner: 17 * 17, ldc: 17,
};

export const KERNEL_CASES: readonly KernelCase[] = [
  // ---- copy ----
  { kernel: 'fill', label: 'n=1000', args: { value: -1.5, n: 1000 } },
  { kernel: 'fill', label: 'int32', args: { dtype: 'int32', value: 7.9, n: 333 } },
  ...(['bfloat16', 'float16', 'int32', 'uint8'] as const).map((to): KernelCase => ({
    kernel: 'cast', label: `float32 -> ${to}`, args: { y_dtype: to, x_dtype: 'float32', n: 1027 },
    inputs: { x: (n, s) => randu(n, s, -300, 300) },
  })),
  { kernel: 'cast', label: 'bfloat16 -> float32', args: { y_dtype: 'float32', x_dtype: 'bfloat16', n: 999 } },
  { kernel: 'copy_bytes', label: '4099 bytes', args: { bytes: 4099 }, inputs: { src: pixels, dst: pixels } },
  { kernel: 'permute', label: 'nchw -> nhwc', args: { numel: 2 * 5 * 7 * 3, ndim: 4, host_shape: [2, 5, 7, 3], host_perm: [0, 2, 3, 1] } },
  { kernel: 'permute', label: '3-d (2, 0, 1)', args: { numel: 4 * 33 * 6, ndim: 3, host_shape: [4, 33, 6], host_perm: [2, 0, 1] } },
  ...[false, true].flatMap((xl) => [false, true].map((yl): KernelCase => ({
    kernel: 'normalize_u8', label: `x ${xl ? 'nhwc' : 'nchw'} y ${yl ? 'nhwc' : 'nchw'}`,
    args: { n: 3, c: 3, hw: 37, x_channels_last: xl, y_channels_last: yl, host_mean: [0.485, 0.456, 0.406], host_std: [0.229, 0.224, 0.225] },
    inputs: { x: pixels },
  }))),
  { kernel: 'copy_block', label: 'strided', args: { outer: 5, block: 13, src_stride: 20, src_offset: 3, dst_stride: 30, dst_offset: 7 } },
  { kernel: 'copy_block', label: 'broadcast src', args: { outer: 4, block: 9, src_stride: 0, src_offset: 0, dst_stride: 9, dst_offset: 0 } },
  // ---- matmul ----
  { kernel: 'matmul_batched', label: 'nn 33x17x9', args: gemm(33, 17, 9, false, false), tf32: true },
  { kernel: 'matmul_batched', label: 'tn beta 0.5', args: gemm(16, 24, 40, true, false, 2, 0.5), tf32: true },
  { kernel: 'matmul_batched', label: 'nt batch 1', args: gemm(7, 65, 31, false, true, 1), tf32: true },
  { kernel: 'matmul_batched', label: 'broadcast b', args: { ...gemm(12, 10, 8, false, false, 4), stride_b: 0 }, tf32: true },
  { kernel: 'matmul_strided', label: 'attention q k^T heads in place', args: ATTN, tf32: true },
  {
    kernel: 'matmul_strided', label: 'attention p v merged heads', tf32: true,
    args: { ...ATTN, m: 17, n: 8, k: 17, trans_b: false, a_outer: 3 * 17 * 17, a_inner: 17 * 17, lda: 17, b_outer: 17 * 24, b_inner: 8, ldb: 24, c_outer: 17 * 24, c_inner: 8, ldc: 24 },
  },
  ...convCases,
  // ---- elementwise ----
  { kernel: 'add_forward', label: 'alpha beta', args: { alpha: 0.5, beta: -2, n: 1001 } },
  { kernel: 'mul_forward', label: 'n=777', args: { n: 777 } },
  { kernel: 'scale_forward', label: 'n=513', args: { alpha: 3, n: 513 } },
  { kernel: 'scalar_broadcast_forward', label: 'n=300', args: { alpha: 0.25, n: 300 } },
  { kernel: 'bias_add_forward', label: 'nchw', args: { outer: 3, channels: 7, inner: 19 } },
  { kernel: 'bias_add_forward', label: 'tokens', args: { outer: 45, channels: 64, inner: 1 } },
  { kernel: 'bias_add_backward', label: 'nchw', args: { outer: 3, channels: 7, inner: 190 }, tolScale: 10 },
  { kernel: 'bias_add_backward', label: 'rows', args: { outer: 300, channels: 33, inner: 1 }, tolScale: 10 },
  { kernel: 'channel_mul_forward', label: 'layerscale', args: { outer: 20, channels: 24, inner: 1 } },
  { kernel: 'channel_mul_backward_scale', label: 'nchw', args: { outer: 4, channels: 6, inner: 50 }, tolScale: 10 },
  // ---- activation ----
  { kernel: 'relu_forward', label: 'n=1025', args: { n: 1025 } },
  { kernel: 'relu_backward', label: 'n=1025', args: { n: 1025 } },
  { kernel: 'gelu_forward', label: 'n=1025', args: { n: 1025 } },
  { kernel: 'gelu_backward', label: 'n=1025', args: { n: 1025 } },
  { kernel: 'softmax_forward', label: '5 x 197', args: { rows: 5, cols: 197 } },
  { kernel: 'softmax_forward', label: '64 x 49 (windows)', args: { rows: 64, cols: 49 } },
  { kernel: 'softmax_forward', label: '2 x 4099', args: { rows: 2, cols: 4099 } },
  { kernel: 'softmax_backward', label: '5 x 197', args: { rows: 5, cols: 197 }, inputs: { y: positive(0, 0.02) } },
  { kernel: 'dropout_forward', label: 'p 0.1', args: { n: 5000, p: 0.1, seed: 12345, offset: 77 } },
  { kernel: 'dropout_backward', label: 'p 0.3', args: { n: 1500, p: 0.3 }, inputs: { mask: bytes01 } },
  { kernel: 'drop_path_forward', label: 'p 0.2', args: { batch: 16, inner: 97, p: 0.2, seed: 9, offset: 3 } },
  { kernel: 'drop_path_backward', label: 'p 0.2', args: { batch: 16, inner: 97, p: 0.2 }, inputs: { mask: bytes01 } },
  // ---- norm ----
  ...[false, true].flatMap((cl): KernelCase[] => {
    const args = { n: 4, c: 6, hw: 25, channels_last: cl, momentum: 0.1, eps: 1e-5 };
    const stats = { running_var: positive(0.5, 2), save_invstd: positive(0.5, 2) };
    const layout = cl ? 'nhwc' : 'nchw';
    return [
      { kernel: 'batchnorm2d_forward_train', label: layout, args, inputs: stats, tolScale: 10 },
      { kernel: 'batchnorm2d_forward_eval', label: layout, args, inputs: stats },
      { kernel: 'batchnorm2d_backward_train', label: layout, args, inputs: stats, tolScale: 10 },
      { kernel: 'batchnorm2d_backward_eval', label: layout, args, inputs: stats, tolScale: 10 },
    ];
  }),
  { kernel: 'layernorm_forward', label: '50 x 384', args: { rows: 50, cols: 384, eps: 1e-6 } },
  { kernel: 'layernorm_forward', label: '7 x 33', args: { rows: 7, cols: 33, eps: 1e-5 } },
  { kernel: 'layernorm_backward', label: '50 x 96', args: { rows: 50, cols: 96 }, inputs: { save_rstd: positive(0.5, 2) }, tolScale: 10 },
  { kernel: 'layernorm_channels_forward', label: '2 x 96 x 7x7', args: { n: 2, c: 96, hw: 49, eps: 1e-6 } },
  { kernel: 'layernorm_channels_backward', label: '2 x 24 x 5x5', args: { n: 2, c: 24, hw: 25 }, inputs: { save_rstd: positive(0.5, 2) }, tolScale: 10 },
  // ---- pool ----
  ...[false, true].flatMap((cl): KernelCase[] => [
    { kernel: 'maxpool2d_forward', label: `3x3 s2 p1 ${cl ? 'nhwc' : 'nchw'}`, args: pool(cl, 3, 2, 1) },
    { kernel: 'maxpool2d_backward', label: `3x3 s2 p1 ${cl ? 'nhwc' : 'nchw'}`, args: pool(cl, 3, 2, 1), inputs: { indices: maxIndices } },
    { kernel: 'avgpool2d_forward', label: `3x3 s2 p1 ${cl ? 'nhwc' : 'nchw'}`, args: { ...pool(cl, 3, 2, 1), count_include_pad: false } },
    { kernel: 'avgpool2d_backward', label: `2x2 s2 incl pad ${cl ? 'nhwc' : 'nchw'}`, args: { ...pool(cl, 2, 2, 1), count_include_pad: true } },
    { kernel: 'global_avgpool_forward', label: cl ? 'nhwc' : 'nchw', args: { batch: 3, channels: 10, hw: 49, channels_last: cl } },
    { kernel: 'global_avgpool_backward', label: cl ? 'nhwc' : 'nchw', args: { batch: 3, channels: 10, hw: 49, channels_last: cl } },
  ]),
  // ---- loss ----
  { kernel: 'cross_entropy_forward', label: '9 x 1000', args: { rows: 9, classes: 1000 }, inputs: { labels: labels(1000) } },
  { kernel: 'cross_entropy_backward', label: '9 x 10', args: { rows: 9, classes: 10 }, inputs: { labels: labels(10), log_probs: positive(-5, -0.1) } },
  { kernel: 'soft_cross_entropy_forward', label: '6 x 100', args: { rows: 6, classes: 100 }, inputs: { targets: positive(0, 0.02) } },
  { kernel: 'soft_cross_entropy_backward', label: '6 x 100', args: { rows: 6, classes: 100 }, inputs: { targets: positive(0, 0.02), log_probs: positive(-6, -0.1) } },
  { kernel: 'classification_counts', label: '50 x 10 top-5', args: { rows: 50, classes: 10, k: 5 }, inputs: { labels: labels(10), counts: () => [3, 4, 0] } },
  // ---- reduce ----
  { kernel: 'reduce_sum', label: 'n=100003', args: { n: 100003, scale: 0.5 }, tolScale: 10 },
  { kernel: 'reduce_abs_sum', label: 'n=4097', args: { n: 4097, scale: 1 / 4097 }, tolScale: 10 },
  { kernel: 'reduce_sum_squares', label: 'n=65537', args: { n: 65537, scale: 1 }, tolScale: 10 },
  { kernel: 'accumulate_loss', label: 'finite', args: { step: 5 }, inputs: { first_bad_step: () => [-1] } },
  { kernel: 'accumulate_loss', label: 'nan', args: { step: 7 }, inputs: { first_bad_step: () => [-1], loss: () => [NaN] } },
  { kernel: 'multi_reduce_abs_sum', label: '4 tensors', args: { host_numels: [1, 1000, 70001, 33], host_scales: [1, 1e-3, 1 / 70001, 2], num_tensors: 4 }, tolScale: 10 },
  { kernel: 'multi_reduce_sum_squares', label: '3 tensors', args: { host_numels: [4096, 5, 300000], host_scales: [1, 1, 1], num_tensors: 3 }, tolScale: 10 },
  // ---- window ----
  { kernel: 'window_partition_forward', label: 'shift 3', args: { batch: 2, h: 14, w: 14, c: 5, window_size: 7, shift: 3 } },
  { kernel: 'window_partition_forward', label: 'no shift', args: { batch: 1, h: 8, w: 12, c: 3, window_size: 4, shift: 0 } },
  { kernel: 'window_reverse_forward', label: 'shift 3', args: { batch: 2, h: 14, w: 14, c: 5, window_size: 7, shift: 3 } },
  { kernel: 'relative_position_bias_forward', label: 'window 7', args: { heads: 3, n: 49, num_rel: 169 }, inputs: { index: labels(169) } },
  { kernel: 'relative_position_bias_backward', label: 'window 7', args: { heads: 3, n: 49, num_rel: 169 }, inputs: { index: labels(169) }, tolScale: 10 },
  { kernel: 'window_mask_add_forward', label: '4 windows', args: { batch: 2, num_windows: 4, heads: 3, n: 16 } },
  // ---- optim (float32 master weights) ----
  {
    kernel: 'sgd_step', label: 'momentum nesterov wd, eta from the device',
    args: { host_numels: [1, 4097, 70000], host_weight_decays: [0, 1e-4, 5e-4], num_tensors: 3, lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, first_step: false, inv_scale: 1 },
    inputs: { lr_scales: () => [1, 0.5, 2], found_inf: () => [0] },
  },
  {
    kernel: 'sgd_step', label: 'no momentum, fp16 unscale fused', emptyLists: ['momentum_buffers'],
    args: { host_numels: [33, 2048], host_weight_decays: [1e-4, 0], num_tensors: 2, lr: 0.3, momentum: 0, dampening: 0, nesterov: false, first_step: true, inv_scale: 1 / 512 },
    inputs: { lr_scales: () => [0.25, 1], found_inf: () => [0] },
  },
  {
    kernel: 'adamw_step', label: 'step 3',
    args: { host_numels: [5, 65537, 1000], host_weight_decays: [0.05, 0, 0.1], num_tensors: 3, lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, bias_correction1: 1 - 0.9 ** 3, bias_correction2: 1 - 0.999 ** 3, inv_scale: 1 },
    inputs: { exp_avg_sqs: positive(0, 1), lr_scales: () => [0.5, 1, 0.25], found_inf: () => [0] },
  },
  {
    kernel: 'multi_unscale_found_inf', label: 'with inf', args: { host_numels: [100, 3000], num_tensors: 2, inv_scale: 1 / 1024 },
    inputs: { found_inf: () => [0], grads: (n, s) => { const v = Array.from(randu(n, s, -1, 1)); if (n === 3000) v[1234] = Infinity; return v; } },
  },
  { kernel: 'multi_axpby', label: '3 tensors', args: { host_numels: [7, 1024, 5000], host_alphas: [1, 0.5, 0], host_betas: [-0.1, 2, 1], num_tensors: 3 } },
  {
    kernel: 'lamb_direction', label: 'step 2',
    args: { host_numels: [64, 3001], host_weight_decays: [0.01, 0], num_tensors: 2, beta1: 0.9, beta2: 0.999, eps: 1e-6, bias_correction1: 1 - 0.9 ** 2, bias_correction2: 1 - 0.999 ** 2 },
    inputs: { exp_avg_sqs: positive(0, 1) },
  },
];
