// Benchmark workloads of the CPU suite, the same as scripts/bench/torch_workloads.py runs in
// PyTorch: an sgemm, and full train steps (forward, cross-entropy, backward, SGD momentum 0.9
// with weight decay) of the MLP 784-1024-10 and the 3-conv CNN, batch 128, on 1x28x28 inputs;
// the same steps under autocast to bfloat16 (`_bf16`, against torch.autocast('cpu', bfloat16))
// and the CNN in channels-last memory format (`_channels_last`, against
// model.to(memory_format=torch.channels_last) with channels-last inputs); resnet50_224_b8: the
// ResNet-50 train step at batch 8 (fused SGD), each side in its own process with its peak RSS;
// convnext_tiny_224_b8 the same for timm's ConvNeXt-T (NCHW).
// vit_s_224_b8: the same for timm's vit_small_patch16_224.
// swin_t_224_b8: the same for timm's Swin-T (swin_tiny_patch4_window7_224, drop rates 0).
import { addon } from '../native/addon';
import { crossEntropy } from '../autograd/ops/loss';
import { scope } from '../memory';
import { manualSeed, Generator } from '../random';
import { Tensor, convertRaw } from '../tensor';
import { autocast, type AutocastDType } from '../autocast';
import * as nn from '../nn';
import { SGD } from '../optim/sgd';
import { convnextTiny } from '../models/convnext';
import { resnet50 } from '../models/resnet';
import { vitSmallPatch16_224 } from '../models/vit';
import { swinTiny } from '../models/swin';

export interface Workload {
  name: string;
  /** Floating-point operations of one step, when meaningful (reported as GFLOP/s). */
  flops?: number;
  /** Bytes read and written by one step, when memory-bound (reported as GB/s). */
  bytesPerStep?: number;
  /** Images per step of a model train step (reported as images_per_s). */
  imagesPerStep?: number;
  /** Run in a child process of its own (its peak RSS is reported as peak_rss_mb), as PyTorch's side. */
  isolated?: boolean;
  /** Warmup steps and the least number of timed steps (default 5 and 5). */
  warmup?: number;
  minSteps?: number;
  setup(): { step: () => void; dispose: () => void };
}

function randomTensor(shape: number[], gen: Generator): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = gen.normal();
  return Tensor.fromArray(values, shape);
}

interface StepOptions {
  /** Batch, channels, height, width, classes (default 128 x 1x28x28, 10 classes). */
  input?: [number, number, number, number, number];
  autocast?: AutocastDType;
  channelsLast?: boolean;
}

function trainStep(model: nn.Module, gen: Generator, options: StepOptions = {}): { step: () => void; dispose: () => void } {
  const [batch, c, h, w, classes] = options.input ?? [128, 1, 28, 28, 10];
  const input = randomTensor([batch, c, h, w], gen);
  const x = options.channelsLast ? convertRaw(input, 'float32', 'channelsLast') : input;
  if (x !== input) input.dispose();
  if (options.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const forward = () => crossEntropy(model.call(x), labels);
  const labels = Tensor.fromArray(Array.from({ length: batch }, () => gen.int(classes)), [batch], { dtype: 'int32' });
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  return {
    step: () =>
      scope(() => {
        opt.zeroGrad();
        (options.autocast ? autocast({ dtype: options.autocast }, forward) : forward()).backward();
        opt.step();
      }),
    dispose: () => {
      opt.dispose();
      model.dispose();
      x.dispose();
      labels.dispose();
    },
  };
}

function convBlock(cin: number, cout: number, stride: number): nn.Module[] {
  return [new nn.Conv2d(cin, cout, 3, { stride, padding: 1 }), new nn.BatchNorm2d(cout), new nn.ReLU()];
}

const mlp = () => new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 1024), new nn.ReLU(), new nn.Linear(1024, 10));
const cnn3 = () => new nn.Sequential(
  ...convBlock(1, 32, 1), ...convBlock(32, 64, 2), ...convBlock(64, 128, 2),
  new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(128, 10),
);

function stepWorkload(name: string, build: () => nn.Module, seed: number, options: StepOptions = {}): Workload {
  return {
    name,
    setup() {
      manualSeed(0);
      return trainStep(build(), new Generator(seed), options);
    },
  };
}

export const CPU_WORKLOADS: Workload[] = [
  {
    name: 'sgemm_1024',
    flops: 2 * 1024 ** 3,
    setup() {
      const gen = new Generator(1);
      const a = randomTensor([1024, 1024], gen);
      const b = randomTensor([1024, 1024], gen);
      const c = Tensor.empty([1024, 1024]);
      return {
        step: () => addon.kernels.matmul_batched(c.buffer, a.buffer, b.buffer, 'float32', 1, 1024, 1024, 1024, false, false, 1, 0, 0, 0, 0),
        dispose: () => [a, b, c].forEach((t) => t.dispose()),
      };
    },
  },
  stepWorkload('mlp784-1024-10_b128', mlp, 2),
  stepWorkload('cnn3_b128', cnn3, 3),
  stepWorkload('mlp784-1024-10_b128_bf16', mlp, 2, { autocast: 'bfloat16' }),
  stepWorkload('cnn3_b128_bf16', cnn3, 3, { autocast: 'bfloat16' }),
  stepWorkload('cnn3_b128_channels_last', cnn3, 3, { channelsLast: true }),
  // torchvision's resnet50 (ours: src/models/resnet.ts), batch 8 of 3x224x224, 1000 classes, in a
  // process of its own on each side so that peak_rss_mb compares the two steps' memory.
  { ...stepWorkload('resnet50_224_b8', () => resnet50(1000), 4, { input: [8, 3, 224, 224, 1000] }), isolated: true, warmup: 1, minSteps: 3 },
  // timm's convnext_tiny (ours: src/models/convnext.ts, timm's init), NCHW, likewise isolated.
  { ...stepWorkload('convnext_tiny_224_b8', () => convnextTiny(), 5, { input: [8, 3, 224, 224, 1000] }), isolated: true, warmup: 1, minSteps: 3 },
  // timm's vit_small_patch16_224 (ours: src/models/vit.ts, q/k/v split), the same batch and process isolation.
  { ...stepWorkload('vit_s_224_b8', () => vitSmallPatch16_224(), 5, { input: [8, 3, 224, 224, 1000] }), isolated: true, warmup: 1, minSteps: 3 },
  { ...stepWorkload('swin_t_224_b8', () => swinTiny(1000), 5, { input: [8, 3, 224, 224, 1000] }), isolated: true, warmup: 1, minSteps: 3 },
];

/** Median milliseconds per step after `warmup` steps, over at least `minSeconds` and `minSteps` steps. */
export function timeSteps(step: () => void, warmup = 5, minSeconds = 2, minSteps = 5): number {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < minSeconds * 1000 || times.length < minSteps) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
