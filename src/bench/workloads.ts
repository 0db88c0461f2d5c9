// Benchmark workloads of the CPU suite, the same as scripts/bench/torch_workloads.py runs in
// PyTorch: an sgemm, and full train steps (forward, cross-entropy, backward, SGD momentum 0.9
// with weight decay) of the MLP 784-1024-10 and the 3-conv CNN, batch 128, on 1x28x28 inputs;
// the same steps under autocast to bfloat16 (`_bf16`, against torch.autocast('cpu', bfloat16))
// and the CNN in channels-last memory format (`_channels_last`, against
// model.to(memory_format=torch.channels_last) with channels-last inputs).
import { addon } from '../native/addon';
import { crossEntropy } from '../autograd/ops/loss';
import { scope } from '../memory';
import { manualSeed, Generator } from '../random';
import { Tensor, convertRaw } from '../tensor';
import { autocast, type AutocastDType } from '../autocast';
import * as nn from '../nn';
import { SGD } from '../optim/sgd';

export interface Workload {
  name: string;
  /** Floating-point operations of one step, when meaningful (reported as GFLOP/s). */
  flops?: number;
  /** Bytes read and written by one step, when memory-bound (reported as GB/s). */
  bytesPerStep?: number;
  setup(): { step: () => void; dispose: () => void };
}

function randomTensor(shape: number[], gen: Generator): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = gen.normal();
  return Tensor.fromArray(values, shape);
}

interface StepOptions {
  autocast?: AutocastDType;
  channelsLast?: boolean;
}

function trainStep(model: nn.Module, gen: Generator, options: StepOptions = {}): { step: () => void; dispose: () => void } {
  const input = randomTensor([128, 1, 28, 28], gen);
  const x = options.channelsLast ? convertRaw(input, 'float32', 'channelsLast') : input;
  if (x !== input) input.dispose();
  if (options.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const forward = () => crossEntropy(model.call(x), labels);
  const labels = Tensor.fromArray(Array.from({ length: 128 }, () => gen.int(10)), [128], { dtype: 'int32' });
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
];

/** Median milliseconds per step after `warmup` steps, over at least `minSeconds` and 5 steps. */
export function timeSteps(step: () => void, warmup = 5, minSeconds = 2): number {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < minSeconds * 1000 || times.length < 5) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
