// The image-folder loader's worker pipeline: identical batches for any worker count, resume at a
// batch, the order from the seed, back-pressure (the ring never grows) and the stall statistics.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanImageFolder } from '../../src/data/image-folder';
import { IMAGENET_NORMALIZATION, ImageFolderLoader, type ImageLoaderOptions } from '../../src/data/image-loader';
import { loadSample, sampleSpecs } from '../../src/data/image/sample';
import { mixSeed } from '../../src/data/seeds';
import { tempDir, writeClassTree } from '../helpers/image-tree';

let dir: string;
beforeAll(async () => {
  dir = tempDir();
  await writeClassTree(path.join(dir, 'train'), ['cat', 'dog', 'eel'], 20);
  await writeClassTree(path.join(dir, 'val'), ['cat', 'dog', 'eel'], 4);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loader(o: Partial<ImageLoaderOptions> = {}): ImageFolderLoader {
  const { train } = scanImageFolder(dir);
  return new ImageFolderLoader({ split: train, batchSize: 8, train: true, seed: 3, imageSize: 16, workers: 1, ...o });
}

/** All batches of an iteration as (images bytes, labels, indices). */
function collect(l: ImageFolderLoader, epoch: number, start = 0): { images: Float32Array; labels: Int32Array; indices: Int32Array }[] {
  const out = [];
  for (const b of l.iterate(epoch, start)) {
    out.push({ images: b.images.toArray() as Float32Array, labels: b.labels.toArray() as unknown as Int32Array, indices: b.indices });
    b.dispose();
  }
  return out;
}

describe('image-folder loader pipeline', () => {
  it('yields the same batches with 1 and 3 workers, and labels matching the files', () => {
    const one = loader({ workers: 1 });
    const three = loader({ workers: 3, slots: 2 });
    try {
      const a = collect(one, 1);
      const b = collect(three, 1);
      expect(a.length).toBe(8);  // 60 images, batch 8
      expect(b.length).toBe(a.length);
      for (let k = 0; k < a.length; k++) {
        expect(Buffer.from(b[k].images.buffer).equals(Buffer.from(a[k].images.buffer))).toBe(true);
        expect(Array.from(b[k].labels)).toEqual(Array.from(a[k].labels));
        expect(Array.from(a[k].labels)).toEqual(Array.from(a[k].indices, (i) => one.split.labels[i]));
      }
      // A shuffled order: not the file order, a permutation of all 60.
      const all = a.flatMap((x) => Array.from(x.indices));
      expect([...all].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(all).not.toEqual(Array.from({ length: 60 }, (_, i) => i));
      // Epochs differ; resume at batch 5 gives batches 5.. exactly.
      expect(collect(one, 2)[0].indices).not.toEqual(a[0].indices);
      const resumed = collect(three, 1, 5);
      expect(resumed.length).toBe(3);
      resumed.forEach((r, i) => expect(Buffer.from(r.images.buffer).equals(Buffer.from(a[5 + i].images.buffer))).toBe(true));
    } finally {
      one.close();
      three.close();
    }
  });

  it('can be abandoned mid-epoch and iterated again; reports the stall time', () => {
    const l = loader({ workers: 2 });
    try {
      const it1 = l.iterate(0);
      const first = it1.next().value!;
      first.dispose();
      it1.return!(undefined);
      const again = collect(l, 0);
      expect(again.length).toBe(8);
      expect(Array.from(again[0].indices)).toEqual(Array.from(first.indices));
      const s = l.takeStats();
      expect(s.data_stall_s).toBeGreaterThanOrEqual(0);
      expect(s.data_stall_ms_per_step).toBeGreaterThanOrEqual(0);
      expect(s.decode_images_per_s).toBeGreaterThan(0);
    } finally {
      l.close();
    }
  });

  it("uploads the decoder's bytes of (file, seed(seed, epoch, position)) normalized with ImageNet's statistics, in either memory format", async () => {
    const plain = loader({ workers: 2 });
    const last = loader({ workers: 2, memoryFormat: 'channelsLast' });
    try {
      const epoch = 4;
      const k = 2;
      const a = [...plain.iterate(epoch, k)][0];
      const b = [...last.iterate(epoch, k)][0];
      expect(b.images.memoryFormat).toBe('channelsLast');
      const [x, y] = [a.images.toArray(), b.images.toArray()];  // logical (N, C, H, W) for both
      expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true);
      const spec = sampleSpecs({ aug: 'basic', size: 16 }).train;
      const s = 16 * 16;
      const { mean, std } = IMAGENET_NORMALIZATION;
      let worst = 0;
      for (let i = 0; i < a.indices.length; i++) {
        const raw = new Uint8Array(s * 3);
        await loadSample(plain.split.files[a.indices[i]], spec, mixSeed(3, epoch, 1, k * 8 + i), raw, 0);
        for (let c = 0; c < 3; c++) {
          for (let p = 0; p < s; p++) {
            const want = (raw[p * 3 + c] / 255 - mean[c]) / std[c];
            worst = Math.max(worst, Math.abs(x[(i * 3 + c) * s + p] - want));
          }
        }
      }
      expect(worst).toBeLessThan(1e-5);
      a.dispose();
      b.dispose();
    } finally {
      plain.close();
      last.close();
    }
  });

  it('does not stall a consumer slower than decoding after the first batch', () => {
    const l = loader({ workers: 2 });
    const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    try {
      const it = l.iterate(0);
      it.next().value!.dispose();
      const first = l.takeStats();
      let n = 0;
      for (;;) {
        sleep(250);  // a training step much slower than decoding 8 small images
        const r = it.next();
        if (r.done) break;
        r.value.dispose();
        n++;
      }
      const rest = l.takeStats();
      console.log(JSON.stringify({ first_batch_stall_ms: 1000 * first.data_stall_s, later_stall_ms_per_batch: rest.data_stall_ms_per_step, batches: n }));
      expect(n).toBe(7);
      expect(rest.data_stall_ms_per_step).toBeLessThan(5);
    } finally {
      l.close();
    }
  });
});
