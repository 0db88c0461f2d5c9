// `--device cuda` end to end through the CUDA emulator (native/cuda-emulator: the CUDA backend's
// C ABI over the CPU backend, memory that JS cannot read and that starts as NaN). The arithmetic is
// the CPU's, so a run on the emulated device must equal the CPU run bit for bit: any difference is
// a device path of the TypeScript (a tensor left on the CPU, memory read before it is written, state
// that a checkpoint or a resume loses) that a GPU would also get wrong. A fault injected into the
// emulated context checks that a sticky CUDA error never reaches a checkpoint. The GPU suite itself
// (test/gpu/*.gpu.test.ts) runs against the emulator as the `gpu-emulated` project of
// vitest.config.mts.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors';
import { runCli, spawnCli } from '../helpers/cli';

const EMULATOR = path.join(__dirname, '..', '..', 'build', 'Release', 'layerwise_cuda_emulator.so');
const onEmulator = { LAYERWISE_CUDA_LIBRARY: EMULATOR };
const base = [
  'train', '--data', 'synthetic:256:1x8x8:4', '--batch-size', '32', '--max-steps', '8', '--probe-steps', '3',
  '--log-interval', '1', '--seed', '5', '--json',
];

function records(dir: string): unknown[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'step' || r.kind === 'epoch')
    .map((r) => [r.kind, r.step, r.loss, r.train_loss, r.test_loss, r.test_top1, r.lr]);
}

function expectSameRun(cpuDir: string, cudaDir: string): void {
  expect(records(cudaDir)).toEqual(records(cpuDir));
  // The probe's profile, where the mode probes (LARC does not).
  const eta = (dir: string) => existsSync(path.join(dir, 'eta.json')) ? JSON.parse(readFileSync(path.join(dir, 'eta.json'), 'utf8')).params : null;
  expect(eta(cudaDir)).toEqual(eta(cpuDir));
  const a = readSafetensors(path.join(cpuDir, 'checkpoint.safetensors')).tensors;
  const b = readSafetensors(path.join(cudaDir, 'checkpoint.safetensors')).tensors;
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [name, t] of a) expect(Buffer.from(b.get(name)!.data).equals(Buffer.from(t.data)), name).toBe(true);
}

const CASES: [string, string[]][] = [
  ['cnn, SGD momentum, float32', ['--model', 'cnn', '--hidden', '16']],
  ['cnn, AdamW, bf16 channels-last', ['--model', 'cnn', '--hidden', '16', '--optimizer', 'adamw', '--lr', '1e-3', '--precision', 'bf16', '--channels-last']],
  ['cnn, SGD, fp16 with the loss scaler', ['--model', 'cnn', '--hidden', '16', '--precision', 'fp16']],
  ['mlp with dropout 0.3, LARC', ['--model', 'mlp', '--hidden', '32', '--drop', '0.3', '--lr-mode', 'larc']],
];

describe.skipIf(!existsSync(EMULATOR))('the CUDA emulator', () => {
  test('info names the emulated device and library', () => {
    const r = runCli(['info', '--json'], onEmulator);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(JSON.stringify(info)).toContain('layerwise_cuda_emulator.so');
    expect(JSON.stringify(info)).toContain('layerwise CUDA emulator');
  });

  test.each(CASES)('train --device cuda equals --device cpu bit for bit: %s', (_label, extra) => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-emulated-'));
    for (const device of ['cpu', 'cuda']) {
      const r = runCli([...base, ...extra, '--device', device, '--out-dir', out, '--name', device], onEmulator);
      expect(r.status, r.stderr).toBe(0);
    }
    expectSameRun(path.join(out, 'cpu'), path.join(out, 'cuda'));
    // Evaluation of the saved run on either device: the same numbers.
    const evals = ['cpu', 'cuda'].map((device) => {
      const r = runCli(['eval', path.join(out, 'cpu'), '--device', device, '--json'], onEmulator);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    });
    expect(evals[1]).toEqual(evals[0]);
  });

  test('a sticky CUDA error stops training before its next checkpoint; --resume in a new process finishes the run', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-emulated-sticky-'));
    const common = [...base, '--model', 'cnn', '--hidden', '16', '--checkpoint-every', '2'];
    const straight = runCli([...common, '--device', 'cpu', '--out-dir', out, '--name', 'straight']);
    expect(straight.status, straight.stderr).toBe(0);
    // The run makes about 580 allocations; the emulated fault comes after 350, mid-run.
    const faulted = runCli([...common, '--device', 'cuda', '--out-dir', out, '--name', 'faulted'],
      { ...onEmulator, LAYERWISE_CUDA_EMULATOR_FAULT_AFTER_ALLOCS: '350' });
    expect(faulted.status).not.toBe(0);
    const refused = /checkpoint of step (\d+) in .* not written.*illegal memory access.*emulated fault after 350 allocations/.exec(faulted.stderr);
    expect(refused, faulted.stderr).not.toBeNull();
    const dir = path.join(out, 'faulted');
    const saved = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')).step;
    expect(saved).toBeLessThan(Number(refused![1]));
    const resumed = runCli(['train', '--resume', dir, '--json'], onEmulator);
    expect(resumed.status, resumed.stderr).toBe(0);
    expectSameRun(path.join(out, 'straight'), dir);
  });

  test('a cuda run SIGKILLed after its checkpoint and resumed equals the straight CPU run', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-emulated-resume-'));
    const common = [...base, '--model', 'cnn', '--hidden', '16', '--checkpoint-every', '4'];
    const straight = runCli([...common, '--device', 'cpu', '--out-dir', out, '--name', 'straight']);
    expect(straight.status, straight.stderr).toBe(0);
    const child = spawnCli([...common, '--device', 'cuda', '--out-dir', out, '--name', 'killed'],
      { ...onEmulator, LAYERWISE_HOLD_AFTER_CHECKPOINT: '4' });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('checkpoint 4 written')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before its checkpoint: ${err}`)));
    });
    await new Promise((r) => child.on('close', r));
    const resumed = runCli(['train', '--resume', path.join(out, 'killed'), '--json'], onEmulator);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'killed', 'config.json'), 'utf8')).device).toBe('cuda');
    expectSameRun(path.join(out, 'straight'), path.join(out, 'killed'));
  });
});
