#!/usr/bin/env node
// Throughput of the image-folder pipeline without a model: writes --images ImageNet-sized JPEGs
// (500x375, quality 90, sharp) into a temp folder, then runs one training epoch of the loader
// (RandomResizedCrop 224 + flip, or --aug strong) and one evaluation epoch for each worker count,
// consuming batches as fast as they come. Prints one JSON object per configuration: images/s
// consumed, the stall per batch, and the pool's decode capacity. Run after `npm run build`.
//   node scripts/bench/image-pipeline.mjs [--images 512] [--workers 1,2] [--batch 32] [--aug basic]
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const arg = (name, def) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : def);
const images = Number(arg('--images', 512));
const workerCounts = arg('--workers', '1,2').split(',').map(Number);
const batchSize = Number(arg('--batch', 32));
const aug = arg('--aug', 'basic');
const sharp = require('sharp');
const { scanImageFolder } = require('../../lib/data/image-folder.js');
const { ImageFolderLoader } = require('../../lib/data/image-loader.js');

const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-img-'));
try {
  const classes = 4;
  for (let c = 0; c < classes; c++) {
    for (const split of ['train', 'val']) mkdirSync(path.join(dir, split, `c${c}`), { recursive: true });
  }
  const w = 500;
  const h = 375;
  for (let i = 0; i < images; i++) {
    const px = Buffer.alloc(w * h * 3);
    for (let j = 0; j < px.length; j++) px[j] = (j * 7 + i * 13 + ((j / 1500) | 0) * 31) & 255;
    const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(path.join(dir, 'train', `c${i % classes}`, `${i}.JPEG`), jpeg);
    if (i < classes) writeFileSync(path.join(dir, 'val', `c${i}`, `${i}.JPEG`), jpeg);
  }
  const { train } = scanImageFolder(dir);
  for (const split of ['train', 'eval']) {
    for (const workers of workerCounts) {
      const loader = new ImageFolderLoader({ split: train, batchSize, train: split === 'train', workers, aug, seed: 0 });
      const start = performance.now();
      let n = 0;
      for (const b of loader.iterate(0)) {
        n += b.indices.length;
        b.dispose();
      }
      const seconds = (performance.now() - start) / 1000;
      const s = loader.takeStats();
      loader.close();
      console.log(JSON.stringify({
        split, aug: split === 'train' ? aug : null, workers, batch: batchSize, images: n, seconds,
        images_per_s: n / seconds, stall_ms_per_batch: s.data_stall_ms_per_step, decode_images_per_s: s.decode_images_per_s,
      }));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
