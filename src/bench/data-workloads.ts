// The data suite of `layerwise bench` (`npm run bench -- --suite data --json`): throughput of the
// image-folder pipeline (src/data/image-loader.ts: the decode pool's worker threads running
// loadSample with sharp, RandomResizedCrop 224 + flip, RandAugment rand-m10-n2 for --aug strong,
// Resize 256 + CenterCrop 224 for evaluation) on a generated tree of ImageNet-like JPEGs
// (data-jpegs.ts), next to torchvision's ImageFolder + DataLoader (Pillow) on the same files with
// the same worker count and batch size, in the same run (scripts/bench/torch_data_workloads.py).
//
// What is timed, on both sides: one iteration over the tree (shuffled), the first WARMUP batches
// (which include starting the workers) untimed, then the next batches until the tree ends; the
// images of those batches over their wall time, and over the CPU time both sides spent in that
// window (all threads / processes: images_per_cpu_s, the per-core rate that the load of a shared
// machine does not distort the way it distorts wall time). Our batches are the loader's real output: the
// uint8 HWC batch copied out of the ring, uploaded to the CPU device and normalized there into
// float32 (B, 3, 224, 224) by normalize_u8 on the main thread; torchvision's are uint8
// (B, 3, 224, 224) tensors (PILToTensor, no normalization), collated in its workers.
//
// Settings (environment): LAYERWISE_BENCH_DATA_IMAGES (default 2048), LAYERWISE_BENCH_DATA_WORKERS
// (2), LAYERWISE_BENCH_DATA_BATCH (64), LAYERWISE_BENCH_DATA_REPEATS (1: with R > 1 each side runs
// R times, alternating with the other, and the median is reported).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { scanClassTree } from '../data/image-folder';
import { ImageFolderLoader } from '../data/image-loader';
import { ensureJpegTree } from './data-jpegs';

export interface DataBenchOptions {
  json: boolean;
  workloads: string[] | null;
  torch: boolean;
}

export interface DataWorkload {
  name: string;
  train: boolean;
  aug: 'basic' | 'strong';
}

export interface DataSettings {
  images: number;
  workers: number;
  batch: number;
  repeats: number;
  warmupBatches: number;
}

export function envInt(name: string, def: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`bench: ${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function dataSettings(): DataSettings {
  return {
    images: envInt('LAYERWISE_BENCH_DATA_IMAGES', 2048, 1),
    workers: envInt('LAYERWISE_BENCH_DATA_WORKERS', 2, 1),
    batch: envInt('LAYERWISE_BENCH_DATA_BATCH', 64, 1),
    repeats: envInt('LAYERWISE_BENCH_DATA_REPEATS', 1, 1),
    warmupBatches: 4,
  };
}

/** The suite's workloads; their names carry the worker count (w2 by default). */
export function dataWorkloads(workers: number): DataWorkload[] {
  return [
    { name: `data_train_basic_w${workers}`, train: true, aug: 'basic' },
    { name: `data_eval_w${workers}`, train: false, aug: 'basic' },
    { name: `data_train_strong_w${workers}`, train: true, aug: 'strong' },
  ];
}

export interface PassResult {
  images: number;
  seconds: number;
  /** CPU time of the whole process (main thread, decode workers, libuv's pool) in the timed window. */
  cpuSeconds: number;
  stallMsPerBatch: number;
  decodeImagesPerS: number;
}

/** One timed pass of our loader over the tree (see the file comment). */
export function timeLoaderPass(dir: string, w: DataWorkload, s: DataSettings): PassResult {
  const split = scanClassTree(dir);
  const loader = new ImageFolderLoader({
    split, batchSize: s.batch, train: w.train, aug: w.aug, workers: s.workers, shuffle: true, seed: 0, device: 'cpu', dropLast: true,
  });
  if (loader.length <= s.warmupBatches) throw new Error(`bench data: ${split.files.length} images make ${loader.length} batches of ${s.batch}, need more than the ${s.warmupBatches} warm-up batches`);
  let k = 0;
  let images = 0;
  let start = 0;
  let cpu0 = process.cpuUsage();
  try {
    for (const b of loader.iterate(0)) {
      if (k >= s.warmupBatches) images += b.indices.length;
      b.dispose();
      k++;
      if (k === s.warmupBatches) {
        loader.takeStats();
        start = performance.now();
        cpu0 = process.cpuUsage();
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const stats = loader.takeStats();
    return { images, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, stallMsPerBatch: stats.data_stall_ms_per_step, decodeImagesPerS: stats.decode_images_per_s };
  } finally {
    loader.close();
  }
}

interface TorchPass {
  images: number;
  seconds: number;
  cpuSeconds: number;
  version: string;
}

/** torchvision's pass of one workload (a Python process each), or why it is unavailable. */
function torchPass(dir: string, w: DataWorkload, s: DataSettings): TorchPass | string {
  const script = path.join(__dirname, '..', '..', 'scripts', 'bench', 'torch_data_workloads.py');
  const kind = w.train ? (w.aug === 'strong' ? 'train_strong' : 'train_basic') : 'eval';
  const r = spawnSync('python3', [script, '--dir', dir, '--kind', kind, '--workers', String(s.workers), '--batch', String(s.batch), '--warmup-batches', String(s.warmupBatches)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return `unavailable (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  const rec = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { images: rec.images, seconds: rec.seconds, cpuSeconds: rec.cpu_seconds, version: `torch ${rec.torch_version}, torchvision ${rec.torchvision_version}, Pillow ${rec.pillow_version}` };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

export function runDataBench(options: DataBenchOptions): void {
  const s = dataSettings();
  const selected = dataWorkloads(s.workers).filter((w) => options.workloads === null || options.workloads.includes(w.name));
  if (selected.length === 0) throw new Error(`bench data: no workload selected (available: ${dataWorkloads(s.workers).map((w) => w.name).join(', ')})`);
  const tree = ensureJpegTree({ images: s.images });
  for (const w of selected) {
    const ours: number[] = [];
    const theirs: number[] = [];
    const oursCpu: number[] = [];
    const theirsCpu: number[] = [];
    let last: PassResult | null = null;
    let torch: TorchPass | string = 'disabled (--no-torch)';
    for (let r = 0; r < s.repeats; r++) {
      last = timeLoaderPass(tree.dir, w, s);
      ours.push(last.images / last.seconds);
      oursCpu.push(last.images / last.cpuSeconds);
      if (options.torch) {
        torch = torchPass(tree.dir, w, s);
        if (typeof torch === 'string') break;
        theirs.push(torch.images / torch.seconds);
        theirsCpu.push(torch.images / torch.cpuSeconds);
      }
    }
    const rate = median(ours);
    const record: Record<string, unknown> = {
      workload: w.name, images_per_s: rate, images_per_s_per_core: rate / s.workers, workers: s.workers, batch: s.batch,
      images: last!.images, seconds: last!.seconds, repeats: ours.length, images_per_s_runs: ours,
      images_per_cpu_s: median(oursCpu), cpu_seconds: last!.cpuSeconds, warmup_batches: s.warmupBatches,
      stall_ms_per_batch: last!.stallMsPerBatch, decode_images_per_s: last!.decodeImagesPerS,
      tree: tree.dir, tree_images: s.images, mean_jpeg_kb: tree.meanBytes / 1024,
      output: 'float32 (B,3,224,224) on the cpu device, normalized (uint8 ring -> upload -> normalize_u8)',
    };
    if (typeof torch === 'string') record.torch = torch;
    else {
      const t = median(theirs);
      Object.assign(record, {
        torchvision_images_per_s: t, torchvision_images_per_s_per_core: t / s.workers, torchvision_images_per_s_runs: theirs,
        speedup_vs_torchvision: rate / t,
        torchvision_images_per_cpu_s: median(theirsCpu), cpu_speedup_vs_torchvision: median(oursCpu) / median(theirsCpu),
        torchvision_output: 'uint8 (B,3,224,224) from PILToTensor, no normalization', torchvision_versions: torch.version,
      });
    }
    if (options.json) console.log(JSON.stringify(record));
    else {
      const cmp = typeof torch === 'string' ? '' : `  (torchvision ${(record.torchvision_images_per_s as number).toFixed(1)}, speedup ${(record.speedup_vs_torchvision as number).toFixed(2)})`;
      console.log(`${w.name.padEnd(24)} ${rate.toFixed(1)} images/s, ${(rate / s.workers).toFixed(1)} per core${cmp}`);
    }
  }
}
