// Memory of the image-folder pipeline stays bounded: the workers never decode more than the ring's
// Q batches ahead of the consumer (back-pressure), and over an epoch of 3000 small JPEGs the
// process's resident memory grows by less than a fixed bound after the first epoch's warm-up.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanImageFolder } from '../../src/data/image-folder';
import { ImageFolderLoader } from '../../src/data/image-loader';
import { tempDir, writeClassTree } from '../helpers/image-tree';

let dir: string;
beforeAll(async () => {
  dir = tempDir();
  await writeClassTree(path.join(dir, 'train'), ['a', 'b', 'c'], 1000, 20, 16);
  await writeClassTree(path.join(dir, 'val'), ['a'], 1, 20, 16);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('image pipeline memory', () => {
  it('decodes at most Q batches ahead of the consumer', () => {
    const l = new ImageFolderLoader({ split: scanImageFolder(dir).train, batchSize: 16, train: true, imageSize: 8, workers: 2, slots: 3 });
    try {
      const it = l.iterate(0);
      it.next().value!.dispose();
      sleep(1500);  // the workers have all the time they want: they must stop at the ring's end
      const p = l.progress()!;
      expect(p.released).toBe(1);
      expect(p.decoded).toBe(16 * (1 + 3));  // batch 0, then batches 1..3 in the three slots
      it.return!(undefined);
    } finally {
      l.close();
    }
  });

  it('keeps resident memory bounded over an epoch of 3000 images', () => {
    const l = new ImageFolderLoader({ split: scanImageFolder(dir).train, batchSize: 32, train: true, imageSize: 16, workers: 2 });
    try {
      const ring = l.ringBytes;
      expect(ring).toBe(3 * 32 * 16 * 16 * 3);  // Q = 2 + ceil(2 / 2) slots
      let count = 0;
      for (const b of l.iterate(0)) {  // warm-up epoch: workers, sharp, allocator pools
        count += b.indices.length;
        b.dispose();
      }
      expect(count).toBe(3000);
      global.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      for (const b of l.iterate(1)) {
        b.dispose();
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      const growthMb = (peak - base) / 2 ** 20;
      console.log(JSON.stringify({ rss_base_mb: base / 2 ** 20, rss_peak_growth_mb: growthMb, ring_bytes: ring }));
      expect(l.ringBytes).toBe(ring);
      expect(growthMb).toBeLessThan(64);
    } finally {
      l.close();
    }
  });
});
