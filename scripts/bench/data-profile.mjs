#!/usr/bin/env node
// Where the time of the data benchmark's pipeline goes (src/bench/data-workloads.ts), per image on
// one thread (sharp.concurrency(1), cache off, as in a decode worker): reading the file, the
// header (metadata), loadSample for the training transform (decode with shrink-on-load, crop,
// resize, flip), the same with RandAugment (rand-m10-n2) and RandAugment alone on a 224 image (JS),
// the evaluation transform, and on the main thread per batch of B: the copy out of the ring, the
// upload to the CPU device and normalize_u8. Stages run interleaved image by image over the
// benchmark's tree; wall-time medians (_ms) and mean CPU time of the process (_cpu_ms: the
// libuv thread doing the decode included) in ms. Prints one JSON object. The torchvision counterpart:
// `python3 scripts/bench/torch_data_workloads.py --dir DIR --profile`.
// Run after `npx tsc -p tsconfig.json`:  node scripts/bench/data-profile.mjs --dir DIR [--images 200] [--batch 64]
import { createRequire } from 'node:module';
import { readFileSync, promises as fsp } from 'node:fs';

const require = createRequire(import.meta.url);
const arg = (name, def) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : def);
const dir = arg('--dir', null);
if (!dir) throw new Error('data-profile: --dir DIR (the benchmark tree, e.g. /tmp/layerwise-bench-jpegs-2048-500x375)');
const count = Number(arg('--images', 200));
const batch = Number(arg('--batch', 64));
const sharp = require('sharp');
sharp.concurrency(1);
sharp.cache(false);
const { loadSample, sampleSpecs } = require('../../lib/data/image/sample.js');
const { randAugment } = require('../../lib/data/image/randaugment.js');
const { Generator } = require('../../lib/random.js');
const { scanClassTree } = require('../../lib/data/image-folder.js');
const { Tensor } = require('../../lib/tensor.js');
const { kernels } = require('../../lib/native/addon.js');

// Every k-th file, so that all class folders are sampled.
const all = scanClassTree(dir).files;
const files = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / count)) === 0).slice(0, count);
const basic = sampleSpecs({ aug: 'basic' });
const strong = sampleSpecs({ aug: 'strong' });
const out = new Uint8Array(224 * 224 * 3);
const stages = {
  read_file: async (f) => { await fsp.readFile(f); },
  metadata: async (f, buf) => { await sharp(buf).metadata(); },
  full_decode: async (f, buf) => { await sharp(buf).raw().toBuffer(); },
  train_basic: async (f, buf, i) => { await loadSample(f, basic.train, i, out, 0); },
  train_strong: async (f, buf, i) => { await loadSample(f, strong.train, i, out, 0); },
  randaugment_only: async (f, buf, i) => { randAugment(out, 224, 224, strong.train.randAugment, new Generator(i)); },
  eval: async (f, buf, i) => { await loadSample(f, basic.eval, i, out, 0); },
};
const times = Object.fromEntries(Object.keys(stages).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(stages).map((k) => [k, 0]));
for (let i = 0; i < files.length + 3; i++) {
  const f = files[i % files.length];
  const buf = readFileSync(f);
  for (const [k, fn] of Object.entries(stages)) {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn(f, buf, i);
    if (i >= 3) {
      times[k].push(performance.now() - t);
      const d = process.cpuUsage(c);
      cpu[k] += (d.user + d.system) / 1000;
    }
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

// Main thread per batch: what ImageFolderLoader.upload does after the pool's take.
const ring = new Uint8Array(new SharedArrayBuffer(batch * 224 * 224 * 3));
const staging = new Uint8Array(batch * 224 * 224 * 3);
const mean = Float32Array.from([0.485, 0.456, 0.406]);
const std = Float32Array.from([0.229, 0.224, 0.225]);
const main = { copy_out: [], upload: [], normalize_u8: [] };
for (let r = 0; r < 23; r++) {
  let t = performance.now();
  staging.set(ring);
  const t1 = performance.now();
  const raw = Tensor.empty([batch, 224, 224, 3], { dtype: 'uint8' });
  raw.copyFromHost(staging);
  const t2 = performance.now();
  const images = Tensor.empty([batch, 3, 224, 224]);
  kernels.normalize_u8(images.buffer, raw.buffer, images.dtype, batch, 3, 224 * 224, true, false, mean, std);
  const t3 = performance.now();
  raw.dispose();
  images.dispose();
  if (r >= 3) {
    main.copy_out.push(t1 - t);
    main.upload.push(t2 - t1);
    main.normalize_u8.push(t3 - t2);
  }
}
const per = Object.fromEntries(Object.entries(times).map(([k, v]) => [`${k}_ms`, Number(median(v).toFixed(3))]));
const cpuMean = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [`${k}_cpu_ms`, Number((v / files.length).toFixed(3))]));
console.log(JSON.stringify({
  images: files.length, threads: 1, ...per, ...cpuMean,
  randaugment_in_loadsample_ms: Number((per.train_strong_ms - per.train_basic_ms).toFixed(3)),
  main_thread_batch: batch,
  ...Object.fromEntries(Object.entries(main).map(([k, v]) => [`main_${k}_ms_per_batch`, Number(median(v).toFixed(3))])),
}));
