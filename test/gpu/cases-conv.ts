// Extra CUDA-vs-CPU cases for cuDNN convolutions and cuBLASLt GEMMs (native/cuda/conv2d*.cu,
// matmul*.cu), in the format of kernel-cases.ts: the paths those files take that its cases miss.
//   - conv2d: NHWC with groups > 1 and taps > 1 (the OHWI weight copy per group), NHWC 1x1 stride 2
//     (ResNet's downsample: no weight copy), NHWC dilation, a 3-channel 7x7 stem (few channels:
//     cuDNN's tensor-op algorithms refuse some, the plan falls back), an input smaller than the
//     kernel reached through padding only.
//   - matmul_strided with more outer than inner matrices (attention's images x heads: the inner
//     level is looped over and the outer one is cuBLASLt's batch), and a collapsing two-level batch.
//   - matmul_batched with a broadcast a (stride 0), and rows of odd length (2-byte aligned bf16).
import type { CaseArgs, KernelCase } from './harness';

function conv(a: {
  in_channels: number; out_channels: number; in_h: number; kernel: number; stride: number; pad: number;
  dilation?: number; groups?: number; channels_last: boolean; batch?: number;
}): CaseArgs {
  const dilation = a.dilation ?? 1;
  const out_h = Math.floor((a.in_h + 2 * a.pad - dilation * (a.kernel - 1) - 1) / a.stride) + 1;
  return {
    batch: a.batch ?? 2, in_channels: a.in_channels, in_h: a.in_h, in_w: a.in_h, out_channels: a.out_channels,
    kernel_h: a.kernel, kernel_w: a.kernel, out_h, out_w: out_h, stride_h: a.stride, stride_w: a.stride,
    pad_h: a.pad, pad_w: a.pad, dilation_h: dilation, dilation_w: dilation, groups: a.groups ?? 1,
    channels_last: a.channels_last,
  };
}

const CONV_CONFIGS: { label: string; args: CaseArgs }[] = [
  { label: '3x3 groups 2 nhwc (conv)', args: conv({ in_channels: 8, out_channels: 12, in_h: 9, kernel: 3, stride: 1, pad: 1, groups: 2, channels_last: true }) },
  { label: '1x1 s2 nhwc downsample (conv)', args: conv({ in_channels: 16, out_channels: 24, in_h: 10, kernel: 1, stride: 2, pad: 0, channels_last: true }) },
  { label: '3x3 dilation 2 groups 4 nhwc (conv)', args: conv({ in_channels: 8, out_channels: 8, in_h: 11, kernel: 3, stride: 1, pad: 2, dilation: 2, groups: 4, channels_last: true }) },
  { label: '7x7 s2 stem 3 channels nhwc (conv)', args: conv({ in_channels: 3, out_channels: 16, in_h: 21, kernel: 7, stride: 2, pad: 3, channels_last: true }) },
  { label: '7x7 s2 stem 3 channels nchw (conv)', args: conv({ in_channels: 3, out_channels: 16, in_h: 21, kernel: 7, stride: 2, pad: 3, channels_last: false }) },
  { label: '3x3 on 2x2 padded input (conv)', args: conv({ in_channels: 5, out_channels: 7, in_h: 2, kernel: 3, stride: 1, pad: 1, channels_last: false, batch: 3 }) },
];

const convCases: KernelCase[] = ['conv2d_forward', 'conv2d_backward_input', 'conv2d_backward_weight'].flatMap((kernel) =>
  CONV_CONFIGS.map(({ label, args }) => ({ kernel, label, args, tf32: true, tolScale: 2 })));

// Attention over 5 images x 2 heads, 9 tokens, head dim 4: rows of a (tokens, 2 x 4) matrix.
const B = 5, H = 2, N = 9, DH = 4, D = H * DH;
const heads = { outer: N * D, inner: DH, ld: D };
const squares = { outer: H * N * N, inner: N * N, ld: N };
type Layout = typeof heads;
const strided = (a: Layout, b: Layout, c: Layout, m: number, n: number, k: number, trans_a: boolean, trans_b: boolean): CaseArgs => ({
  outer: B, inner: H, m, n, k, trans_a, trans_b, alpha: 0.5, beta: 0,
  a_outer: a.outer, a_inner: a.inner, lda: a.ld, b_outer: b.outer, b_inner: b.inner, ldb: b.ld,
  c_outer: c.outer, c_inner: c.inner, ldc: c.ld,
});

export const extraCases: KernelCase[] = [
  ...convCases,
  { kernel: 'matmul_strided', label: 'q k^T, outer > inner (conv)', args: strided(heads, heads, squares, N, N, DH, false, true), tf32: true },
  { kernel: 'matmul_strided', label: 'p v, outer > inner (conv)', args: strided(squares, heads, heads, N, DH, N, false, false), tf32: true },
  { kernel: 'matmul_strided', label: 'dk = g^T q, outer > inner (conv)', args: strided(squares, heads, heads, N, DH, N, true, false), tf32: true },
  {
    kernel: 'matmul_strided', label: 'levels collapse (conv)', tf32: true,
    args: { outer: 3, inner: 2, m: 5, n: 6, k: 7, trans_a: false, trans_b: false, alpha: 1, beta: 0,
      a_outer: 2 * 35, a_inner: 35, lda: 7, b_outer: 2 * 42, b_inner: 42, ldb: 6, c_outer: 2 * 30, c_inner: 30, ldc: 6 },
  },
  {
    kernel: 'matmul_batched', label: 'broadcast a, odd rows (conv)', tf32: true,
    args: { batch: 3, m: 5, n: 7, k: 9, trans_a: false, trans_b: true, alpha: 1, beta: 0.5, stride_a: 0, stride_b: 63, stride_c: 35 },
  },
];
