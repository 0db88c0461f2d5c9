// Extra CUDA-vs-CPU cases for the norm, loss and reduce kernels (review-norm): shapes large enough
// to reach the GPU paths that the small cases of kernel-cases.ts never take. BatchNorm: several
// chunks per channel (NHWC: more than 32, so the finishing warp's lanes loop), ranges that start
// inside an image, hw below the block size (NCHW index stepping), more elements than one grid-stride
// sweep (channel stepping with a carry), a mean far from 0 (the shifted moments). LayerNorm: many
// row groups, partial position tiles. Losses: rows wider than a warp's share (block mode).
// Reductions: more blocks than the per-call cap, more tensors than one launch holds, empty tensors.
import type { KernelCase } from './harness';
import { randint, randn, randu } from '../helpers/random';

const labels = (classes: number) => (n: number, seed: number) => randint(n, classes, seed);
const positive = (lo: number, hi: number) => (n: number, seed: number) => randu(n, seed, lo, hi);
const offset = (mean: number) => (n: number, seed: number) => randn(n, seed).map((v) => mean + v);

function batchnorm(label: string, n: number, c: number, hw: number, x?: (n: number, seed: number) => ArrayLike<number>): KernelCase[] {
  return [false, true].flatMap((cl): KernelCase[] => {
    const args = { n, c, hw, channels_last: cl, momentum: 0.1, eps: 1e-5 };
    const stats = { running_var: positive(0.5, 2), save_invstd: positive(0.5, 2), ...(x ? { x } : {}) };
    const l = `${label} ${cl ? 'nhwc' : 'nchw'}`;
    return [
      { kernel: 'batchnorm2d_forward_train', label: l, args, inputs: stats, tolScale: 10 },
      { kernel: 'batchnorm2d_forward_eval', label: l, args, inputs: stats },
      { kernel: 'batchnorm2d_backward_train', label: l, args, inputs: stats, tolScale: 10 },
      { kernel: 'batchnorm2d_backward_eval', label: l, args, inputs: stats, tolScale: 10 },
    ];
  });
}

// Logits whose class 0 (every row's label) is the largest in even rows.
const labelWinsInEvenRows = (classes: number) => (n: number, seed: number) =>
  randn(n, seed).map((v, i) => (i % classes === 0 && Math.floor(i / classes) % 2 === 0 ? 10 : v));

const manyNumels = Array.from({ length: 200 }, (_, i) => (i % 7 === 3 ? 0 : ((i * 997) % 5000) + 1));

export const extraCases: KernelCase[] = [
  // ---- norm ----
  ...batchnorm('8 x 40 x 1000', 8, 40, 1000),
  ...batchnorm('64 x 70 x 7x7', 64, 70, 49),
  ...batchnorm('mean 30, 16 x 3 x 300', 16, 3, 300, offset(30)),
  { kernel: 'layernorm_forward', label: '1100 x 77', args: { rows: 1100, cols: 77, eps: 1e-5 } },
  { kernel: 'layernorm_backward', label: '5000 x 40', args: { rows: 5000, cols: 40 }, inputs: { save_rstd: positive(0.5, 2) }, tolScale: 10 },
  { kernel: 'layernorm_channels_forward', label: '3 x 20 x 300', args: { n: 3, c: 20, hw: 300, eps: 1e-6 } },
  { kernel: 'layernorm_channels_backward', label: '3 x 20 x 300', args: { n: 3, c: 20, hw: 300 }, inputs: { save_rstd: positive(0.5, 2) }, tolScale: 10 },
  // ---- loss ----
  { kernel: 'cross_entropy_forward', label: '70 x 1500 (block rows)', args: { rows: 70, classes: 1500 }, inputs: { labels: labels(1500) } },
  { kernel: 'cross_entropy_backward', label: '300 x 1000', args: { rows: 300, classes: 1000 }, inputs: { labels: labels(1000), log_probs: positive(-9, -5) } },
  { kernel: 'soft_cross_entropy_forward', label: '5 x 2000 (block rows)', args: { rows: 5, classes: 2000 }, inputs: { targets: positive(0, 0.001) } },
  { kernel: 'soft_cross_entropy_backward', label: '5 x 2000 (block rows)', args: { rows: 5, classes: 2000 }, inputs: { targets: positive(0, 0.001), log_probs: positive(-9, -5) } },
  { kernel: 'classification_counts', label: '20 x 1100 top-5 (block rows)', args: { rows: 20, classes: 1100, k: 5 }, inputs: { labels: (n) => new Int32Array(n), logits: labelWinsInEvenRows(1100), counts: () => [1, 2, 3] } },
  // ---- reduce ----
  { kernel: 'reduce_sum', label: 'n=3000001 (block cap)', args: { n: 3000001, scale: 1 / 3000001 }, tolScale: 10 },
  { kernel: 'multi_reduce_abs_sum', label: '200 tensors, some empty', args: { host_numels: manyNumels, host_scales: manyNumels.map((n) => 1 / Math.max(n, 1)), num_tensors: 200 }, tolScale: 10 },
  { kernel: 'multi_reduce_sum_squares', label: '200 tensors, some empty', args: { host_numels: manyNumels, host_scales: manyNumels.map(() => 0.5), num_tensors: 200 }, tolScale: 10 },
];
