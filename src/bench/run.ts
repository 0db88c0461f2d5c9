// The benchmark runner behind `layerwise bench` / `npm run bench -- --suite cpu --json`: times our workloads,
// then PyTorch's on the same machine in the same run (scripts/bench/torch_workloads.py) with
// the same thread count, and prints one JSON object per workload: workload, ms_per_step,
// gflops (sgemm), torch_ms_per_step and time_ratio_vs_torch (ours / PyTorch's; < 1 is faster);
// isolated workloads (resnet50_224_b8) run in a child process on each side, with peak_rss_mb next
// to torch_peak_rss_mb.
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { startCuda } from '../native/cuda-backend';
import { runDataBench } from './data-workloads';
import { OPTIM_WORKLOADS } from './optim-workloads';
import { CUDA_WORKLOADS } from './cuda-workloads';
import { CPU_WORKLOADS, timeSteps, type Workload } from './workloads';

export interface BenchOptions {
  suite: string;
  json: boolean;
  workloads: string[] | null;
  torch: boolean;
  minSeconds: number;
}

export function threadCount(): number {
  const env = Number(process.env.OMP_NUM_THREADS);
  return Number.isInteger(env) && env > 0 ? env : os.availableParallelism();
}

interface BenchRow {
  workload: string;
  ms_per_step: number;
  threads: number;
  gflops?: number;
  gb_per_s?: number;
  images_per_s?: number;
  peak_rss_mb?: number;
}

interface TorchResult {
  ms: number;
  peakRssMb?: number;
}

/** Our isolated workload in a child process: its time and peak RSS (process.resourceUsage().maxRSS). */
function childRun(name: string, minSeconds: number): { ms: number; peakRssMb: number } {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'child.js'), name, String(minSeconds)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: workload ${name} failed in its child process: ${(r.stderr || r.error?.message || '').trim()}`);
  const rec = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ms: rec.ms_per_step, peakRssMb: rec.peak_rss_mb };
}

function torchTimes(names: string[], threads: number, minSeconds: number, suite = 'cpu'): Map<string, TorchResult> | string {
  const script = path.join(__dirname, '..', '..', 'scripts', 'bench', suite === 'cuda' ? 'torch_cuda_workloads.py' : 'torch_workloads.py');
  const r = spawnSync('python3', [script, '--threads', String(threads), '--workloads', names.join(','), '--min-seconds', String(minSeconds)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return `unavailable (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  const out = new Map<string, TorchResult>();
  for (const line of r.stdout.split('\n')) {
    if (line.trim()) {
      const rec = JSON.parse(line);
      if (typeof rec.torch_ms_per_step === 'number') out.set(rec.workload, { ms: rec.torch_ms_per_step, peakRssMb: rec.torch_peak_rss_mb });
    }
  }
  return out;
}

/** PyTorch's times: the shared workloads in one process, each isolated one in a process of its own. */
function allTorchTimes(workloads: { name: string; isolated?: boolean }[], threads: number, minSeconds: number, suite: string): Map<string, TorchResult> | string {
  const shared = workloads.filter((w) => !w.isolated).map((w) => w.name);
  const out = new Map<string, TorchResult>();
  const groups = [...(shared.length > 0 ? [shared] : []), ...workloads.filter((w) => w.isolated).map((w) => [w.name])];
  for (const names of groups) {
    const r = torchTimes(names, threads, minSeconds, suite);
    if (typeof r === 'string') return r;
    for (const [k, v] of r) out.set(k, v);
  }
  return out;
}

export function runBench(options: BenchOptions): void {
  // The data suite (image pipeline vs torchvision's DataLoader): src/bench/data-workloads.ts.
  if (options.suite === 'data') return runDataBench(options);
  const suites: Record<string, Workload[]> = { cpu: [...CPU_WORKLOADS, ...OPTIM_WORKLOADS], cuda: CUDA_WORKLOADS };
  const suite = suites[options.suite];
  if (!suite) throw new Error(`bench: unknown suite '${options.suite}' (available: ${[...Object.keys(suites), 'data'].join(', ')})`);
  if (options.suite === 'cuda') startCuda();
  const threads = threadCount();
  const selected = suite.filter((w) => options.workloads === null || options.workloads.includes(w.name));
  const results = selected.map((w): BenchRow => {
    if (w.isolated) {
      const { ms, peakRssMb } = childRun(w.name, options.minSeconds);
      return { workload: w.name, ms_per_step: ms, threads, peak_rss_mb: peakRssMb };
    }
    const { step, dispose } = w.setup();
    const ms = timeSteps(step, w.warmup ?? 5, options.minSeconds, w.minSteps ?? 5);
    dispose();
    return {
      workload: w.name, ms_per_step: ms, threads,
      ...(w.imagesPerStep ? { images_per_s: (w.imagesPerStep * 1000) / ms } : {}),
      ...(w.flops ? { gflops: w.flops / (ms * 1e6) } : {}),
      ...(w.bytesPerStep ? { gb_per_s: w.bytesPerStep / (ms * 1e6) } : {}),
    };
  });
  const torch = options.torch ? allTorchTimes(selected, threads, options.minSeconds, options.suite) : 'disabled (--no-torch)';
  const copy = results.find((r) => r.workload === 'copy_25M' || r.workload === 'copy_25M_cuda');
  for (const r of results) {
    const record: Record<string, unknown> = { ...r };
    if (/_step_25M(_cuda)?$/.test(r.workload) && copy?.gb_per_s && r.gb_per_s) {
      record.copy_gb_per_s = copy.gb_per_s;
      record.fraction_of_copy_bandwidth = r.gb_per_s / copy.gb_per_s;
    }
    if (typeof torch === 'string') record.torch = torch;
    else if (torch.has(r.workload)) {
      const t = torch.get(r.workload)!;
      record.torch_ms_per_step = t.ms;
      record.time_ratio_vs_torch = r.ms_per_step / t.ms;
      if (r.images_per_s !== undefined) record.torch_images_per_s = (r.images_per_s * r.ms_per_step) / t.ms;
      if (r.peak_rss_mb !== undefined && t.peakRssMb !== undefined) record.torch_peak_rss_mb = t.peakRssMb;
    }
    record.openblas_env = process.env.OPENBLAS_CORETYPE ? `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE}` : 'unset';
    if (options.json) console.log(JSON.stringify(record));
    else console.log(`${r.workload.padEnd(24)} ${r.ms_per_step.toFixed(3)} ms/step` + (record.time_ratio_vs_torch ? `  (torch ${(record.torch_ms_per_step as number).toFixed(3)} ms, ratio ${(record.time_ratio_vs_torch as number).toFixed(2)})` : ''));
  }
}

