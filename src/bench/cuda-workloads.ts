// The CUDA benchmark suite (`layerwise bench --suite cuda --json`), the same workloads as
// scripts/bench/torch_cuda_workloads.py runs in PyTorch eager on the same GPU: ResNet-50 224 px
// batch 256 train steps in float32 (TF32 on, NCHW) and in bf16 autocast channels-last, ViT-S/16
// batch 256 in bf16, the fused SGD and AdamW steps over ResNet-50's 161 parameter tensors next to
// a device-to-device copy of the same bytes, and conv / GEMM throughput. Each step ends with a
// device synchronization, so its time is the GPU's, not the enqueue's (PyTorch's side calls
// torch.cuda.synchronize() likewise). LAYERWISE_BENCH_CUDA_BATCH (default 256) sets the model steps'
// batch, on both sides (a smaller one for a GPU with less memory, or for the CUDA emulator).
import { crossEntropy } from '../autograd/ops/loss';
import { autocast } from '../autocast';
import { scope } from '../memory';
import { resnet50 } from '../models/resnet';
import { vitSmallPatch16_224 } from '../models/vit';
import { addon, kernels } from '../native/addon';
import type * as nn from '../nn';
import { Parameter } from '../nn/parameter';
import { AdamW } from '../optim/adamw';
import { SGD } from '../optim/sgd';
import type { Optimizer } from '../optim/optimizer';
import { Generator, manualSeed } from '../random';
import { Tensor, convertRaw } from '../tensor';
import { resnet50ParamShapes } from './shapes';
import { envInt } from './data-workloads';
import type { Workload } from './workloads';

const CUDA_ID = 1;
const BATCH = envInt('LAYERWISE_BENCH_CUDA_BATCH', 256, 1);
const sync = () => addon.synchronize(CUDA_ID);

function randomCuda(shape: number[], gen: Generator, dtype: 'float32' | 'bfloat16' = 'float32'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = gen.normal();
  const t = Tensor.fromArray(values, shape, { device: 'cuda' });
  if (dtype === 'float32') return t;
  const low = convertRaw(t, dtype, 'contiguous');
  t.dispose();
  return low;
}

interface ModelStep {
  batch: number;
  bf16: boolean;
  channelsLast: boolean;
}

/** A full train step (forward, cross-entropy, backward, fused SGD) of `build()` on the GPU. */
function modelStep(build: () => nn.Module, o: ModelStep): { step: () => void; dispose: () => void } {
  manualSeed(0);
  const gen = new Generator(7);
  const model = build().to('cuda');
  if (o.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const input = randomCuda([o.batch, 3, 224, 224], gen);
  const x = o.channelsLast ? convertRaw(input, 'float32', 'channelsLast') : input;
  if (x !== input) input.dispose();
  const labels = Tensor.fromArray(Array.from({ length: o.batch }, () => gen.int(1000)), [o.batch], { dtype: 'int32', device: 'cuda' });
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const forward = () => crossEntropy(model.call(x), labels);
  return {
    step: () => {
      scope(() => {
        opt.zeroGrad();
        (o.bf16 ? autocast({ dtype: 'bfloat16' }, forward) : forward()).backward();
        opt.step();
      });
      sync();
    },
    dispose: () => {
      opt.dispose();
      model.dispose();
      x.dispose();
      labels.dispose();
    },
  };
}

const shapes = resnet50ParamShapes();
const total = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);

/** ResNet-50-shaped parameters on the GPU with gradients, and an optimizer over them. */
function optimizerStep(make: (params: Parameter[]) => Optimizer): { step: () => void; dispose: () => void } {
  const params = shapes.map((s) => {
    const p = new Parameter(s, 'weight', 'cuda');
    kernels.fill(p.buffer, 'float32', 0.5, p.numel);
    p.grad = Tensor.full(s, 1e-3, { device: 'cuda' });
    return p;
  });
  const opt = make(params);
  return {
    step: () => {
      opt.step();
      sync();
    },
    dispose: () => {
      opt.dispose();
      for (const p of params) {
        p.grad?.dispose();
        p.dispose();
      }
    },
  };
}

function gemm(dtype: 'float32' | 'bfloat16', size: number): Workload {
  return {
    name: `gemm_${size}_${dtype === 'float32' ? 'tf32' : 'bf16'}`,
    flops: 2 * size ** 3,
    setup() {
      const gen = new Generator(3);
      const [a, b] = [randomCuda([size, size], gen, dtype), randomCuda([size, size], gen, dtype)];
      const c = Tensor.empty([size, size], { device: 'cuda', dtype });
      return {
        step: () => {
          kernels.matmul_batched(c.buffer, a.buffer, b.buffer, dtype, 1, size, size, size, false, false, 1, 0, 0, 0, 0);
          sync();
        },
        dispose: () => [a, b, c].forEach((t) => t.dispose()),
      };
    },
  };
}

// ResNet-50's layer3 3x3 convolution shape at batch 256: 256 x 256 x 14 x 14, stride 1, NHWC bf16.
function conv3x3(): Workload {
  const [n, c, h, k] = [256, 256, 14, 3];
  return {
    name: 'conv3x3_256c_14px_b256_bf16_channels_last',
    flops: 2 * n * c * h * h * c * k * k,
    setup() {
      const gen = new Generator(5);
      const x = randomCuda([n * c * h * h], gen, 'bfloat16');
      const w = randomCuda([c * c * k * k], gen, 'bfloat16');
      const y = Tensor.empty([n * c * h * h], { device: 'cuda', dtype: 'bfloat16' });
      return {
        step: () => {
          kernels.conv2d_forward(y.buffer, x.buffer, w.buffer, 'bfloat16', n, c, h, h, c, k, k, h, h, 1, 1, 1, 1, 1, 1, 1, true);
          sync();
        },
        dispose: () => [x, w, y].forEach((t) => t.dispose()),
      };
    },
  };
}

export const CUDA_WORKLOADS: Workload[] = [
  { name: `resnet50_224_b${BATCH}_tf32`, imagesPerStep: BATCH, warmup: 3, minSteps: 10, setup: () => modelStep(() => resnet50(1000), { batch: BATCH, bf16: false, channelsLast: false }) },
  { name: `resnet50_224_b${BATCH}_bf16_channels_last`, imagesPerStep: BATCH, warmup: 3, minSteps: 10, setup: () => modelStep(() => resnet50(1000), { batch: BATCH, bf16: true, channelsLast: true }) },
  { name: `vit_s_224_b${BATCH}_bf16`, imagesPerStep: BATCH, warmup: 3, minSteps: 10, setup: () => modelStep(() => vitSmallPatch16_224(), { batch: BATCH, bf16: true, channelsLast: false }) },
  {
    name: 'copy_25M_cuda',
    bytesPerStep: 2 * 4 * total,
    setup() {
      const src = Tensor.full([total], 1, { device: 'cuda' });
      const dst = Tensor.empty([total], { device: 'cuda' });
      return {
        step: () => {
          kernels.copy_bytes(dst.buffer, src.buffer, 4 * total);
          sync();
        },
        dispose: () => [src, dst].forEach((t) => t.dispose()),
      };
    },
  },
  // reads param, grad, momentum buffer; writes param, momentum buffer
  { name: 'sgd_step_25M_cuda', bytesPerStep: 5 * 4 * total, setup: () => optimizerStep((p) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 })) },
  // reads param, grad, exp_avg, exp_avg_sq; writes param, exp_avg, exp_avg_sq
  { name: 'adamw_step_25M_cuda', bytesPerStep: 7 * 4 * total, setup: () => optimizerStep((p) => new AdamW(p, { lr: 1e-3, weightDecay: 0.05 })) },
  conv3x3(),
  gemm('float32', 8192),
  gemm('bfloat16', 8192),
];
