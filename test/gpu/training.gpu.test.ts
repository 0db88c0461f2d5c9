// 50-step training runs on CUDA against the same runs on the CPU backend: the default small CNN and
// a reduced ResNet (resnet50_cifar: ResNet-50's bottlenecks at 32 px, BatchNorm, 23.7M weights),
// identical configuration and seed (so identical initial weights, batches and probe). The probe's
// eta and every step's loss must track the CPU run. Tolerances: float32 with TF32 off, each
// step's loss within 2e-3 relative and every eta within 1e-3 relative (different summation orders
// only); with TF32 on (the default), losses within 3e-2 relative. Each CPU run is made once and
// compared with both CUDA runs. LAYERWISE_GPU_TRAIN_STEPS (default 50) shortens the runs (the
// CUDA emulator's project in vitest.config.mts, where the CUDA side is the CPU backend as well).
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { setTf32 } from '../../src/native/cuda-backend';
import { resolveConfig, type TrainConfig } from '../../src/train/config';
import { runTraining } from '../../src/train/run';
import { gpu } from './cuda';

const available = gpu();
const STEPS = Number(process.env.LAYERWISE_GPU_TRAIN_STEPS ?? 50);
if (!Number.isInteger(STEPS) || STEPS < 1) throw new Error(`LAYERWISE_GPU_TRAIN_STEPS must be a positive integer, got '${process.env.LAYERWISE_GPU_TRAIN_STEPS}'`);

interface RunTrace {
  losses: number[];
  eta: Map<string, number>;
}

function train(device: 'cpu' | 'cuda', extra: Partial<TrainConfig>): RunTrace {
  const out = mkdtempSync(path.join(os.tmpdir(), `lw-gpu-train-${device}-`));
  const config = resolveConfig({}, {
    maxSteps: STEPS, logInterval: 1, probeSteps: 4, evalBatchSize: 32, outDir: out, name: 'r', device, seed: 3, ...extra,
  });
  runTraining(config, path.join(out, 'r'), null, { quiet: true });
  const lines = readFileSync(path.join(out, 'r', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const losses = lines.filter((l) => l.kind === 'step').map((l) => Number(l.loss));
  const profile = JSON.parse(readFileSync(path.join(out, 'r', 'eta.json'), 'utf8')) as { params: { name: string; eta: number }[] };
  return { losses, eta: new Map(profile.params.map((p) => [p.name, p.eta])) };
}

function compare(cpu: RunTrace, cuda: RunTrace, lossRtol: number, etaRtol: number): string[] {
  const problems: string[] = [];
  if (cpu.losses.length !== STEPS || cuda.losses.length !== STEPS) problems.push(`steps: cpu ${cpu.losses.length}, cuda ${cuda.losses.length} (want ${STEPS})`);
  cpu.losses.forEach((want, i) => {
    const got = cuda.losses[i];
    if (!(Math.abs(got - want) <= lossRtol * Math.abs(want))) problems.push(`step ${i + 1}: loss cuda ${got} cpu ${want}`);
  });
  for (const [name, want] of cpu.eta) {
    const got = cuda.eta.get(name);
    if (got === undefined || !(Math.abs(got - want) <= etaRtol * Math.abs(want))) problems.push(`eta ${name}: cuda ${got} cpu ${want}`);
  }
  return problems.slice(0, 20);
}

const RUNS: { name: string; config: Partial<TrainConfig> }[] = [
  { name: 'small CNN, Fashion-MNIST-shaped synthetic data, batch 64', config: { model: 'cnn', data: 'synthetic:4096:1x28x28:10', batchSize: 64 } },
  { name: 'reduced ResNet (resnet50_cifar), 32 px synthetic, batch 32', config: { model: 'resnet50_cifar', data: 'synthetic:2048:3x32x32:10', batchSize: 32, lr: 0.05 } },
];

const cpuRuns = new Map<string, RunTrace>();
function cpuRun(run: (typeof RUNS)[number]): RunTrace {
  if (!cpuRuns.has(run.name)) cpuRuns.set(run.name, train('cpu', run.config));
  return cpuRuns.get(run.name)!;
}

describe.skipIf(!available.ok)(`${STEPS}-step training on CUDA tracks the CPU run (${available.reason})`, () => {
  for (const run of RUNS) {
    test(`${run.name}: float32, TF32 off`, () => {
      const cpu = cpuRun(run);
      setTf32(false);
      try {
        expect(compare(cpu, train('cuda', run.config), 2e-3, 1e-3)).toEqual([]);
      } finally {
        setTf32(true);
      }
    });
    test(`${run.name}: float32 with TF32`, () => {
      const cpu = cpuRun(run);
      expect(compare(cpu, train('cuda', run.config), 3e-2, 3e-2)).toEqual([]);
    });
  }
});
