#!/usr/bin/env node
// Times loadSample (src/data/image/sample.ts) on one libvips thread (sharp.concurrency(1), cache
// off): images/s for the training transform with and without JPEG shrink-on-load, the
// evaluation transform, both with resampler 'pil' (PIL's algorithm in TS on every axis), and a
// plain full decode for reference, on JPEGs it generates (textured
// content, quality 90) at 500x375 (ImageNet's typical size) and 2000x1500. Every configuration
// runs the same (file, seed) steps, interleaved, best of --rounds per step (see bestOf); one JSON
// object per image size and output size, with the fraction of training crops that allowed
// shrink-on-load.
// Run after `npm run build:ts`:   node scripts/bench/image-decode.mjs [--rounds 5] [--files 24]
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const sharp = require('sharp');
const lib = process.env.LAYERWISE_LIB ?? '../../lib';
const { loadSample, sampleSpecs, jpegShrinkFor } = require(`${lib}/data/image/sample.js`);
const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const rounds = arg('--rounds', 5);
const nFiles = arg('--files', 24);

sharp.concurrency(1);
sharp.cache(false);
const dir = mkdtempSync(join(tmpdir(), 'bench-image-decode-'));

async function makeFiles(width, height) {
  const files = [];
  for (let k = 0; k < nFiles; k++) {
    const px = Buffer.alloc(width * height * 3);
    let s = 12345 + k;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const n = (s >>> 24) - 128;
        const o = (y * width + x) * 3;
        px[o] = (128 + 90 * Math.sin((x + k * 13) / 17) + n / 4) & 255;
        px[o + 1] = (128 + 90 * Math.cos((y - k * 7) / 23) + n / 4) & 255;
        px[o + 2] = (128 + 60 * Math.sin((x + y) / 11) + n / 3) & 255;
      }
    }
    const file = join(dir, `img${width}_${k}.JPEG`);
    writeFileSync(file, await sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
    files.push(file);
  }
  return files;
}

/**
 * Runs every configuration on the same K (file, seed) steps, R rounds interleaved step by step
 * in a rotating order, and keeps each step's best time: on a shared machine the minimum over rounds is the least
 * disturbed estimate. images/s = K / (sum of the best times).
 */
async function bestOf(fns, K, R) {
  for (const fn of fns) await fn(0); // warm-up
  const best = fns.map(() => new Array(K).fill(Infinity));
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < fns.length; j++) {
        const k = (j + i + r) % fns.length; // rotate the order: no configuration always goes first
        const t = performance.now();
        await fns[k](i, r);
        best[k][i] = Math.min(best[k][i], performance.now() - t);
      }
    }
  }
  return best.map((b) => (1000 * K) / b.reduce((x, y) => x + y, 0));
}

for (const [w, h] of [[500, 375], [2000, 1500]]) {
  const files = await makeFiles(w, h);
  const bytes = files.map((f) => readFileSync(f).length);
  for (const size of [224, 112]) {
    const { train, eval: ev } = sampleSpecs({ aug: 'basic', size });
    const out = new Uint8Array(size * size * 3);
    let allowed = 0;
    let seen = 0;
    const run = (spec) => async (i, round) => {
      const info = await loadSample(files[i % files.length], spec, i, out, 0);
      if (round === 0 && spec.kind === 'train' && spec.shrinkOnLoad !== false && !spec.resampler) {
        seen++;
        if (jpegShrinkFor(Math.min(info.box.width, info.box.height) / size) > 1) allowed++;
      }
    };
    const full = async (i) => { await sharp(files[i % files.length]).raw().toBuffer(); };
    const K = w > 1000 ? 16 : 64;
    const rates = await bestOf([
      run(train), run({ ...train, shrinkOnLoad: false }), run(ev), full,
      run({ ...train, resampler: 'pil' }), run({ ...ev, resampler: 'pil' }),
    ], K, rounds);
    const report = {
      image: `${w}x${h}`, jpeg_quality: 90, mean_file_kb: Math.round(bytes.reduce((a, b) => a + b, 0) / bytes.length / 1024),
      size, threads: 1, samples: K, rounds,
      train_images_per_s: Number(rates[0].toFixed(1)),
      train_no_shrink_images_per_s: Number(rates[1].toFixed(1)),
      shrink_speedup: Number((rates[0] / rates[1]).toFixed(2)),
      train_shrink_fraction: Number((allowed / seen).toFixed(3)),
      eval_images_per_s: Number(rates[2].toFixed(1)),
      full_decode_images_per_s: Number(rates[3].toFixed(1)),
      train_pil_resampler_images_per_s: Number(rates[4].toFixed(1)),
      eval_pil_resampler_images_per_s: Number(rates[5].toFixed(1)),
    };
    console.log(JSON.stringify(report));
  }
}
