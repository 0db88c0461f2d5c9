// Mixup: Beta(alpha, alpha) lambdas (moments, reproducibility from (seed, epoch, batch)), soft
// targets that sum to 1 and carry lambda, the device blend against a host float64 reference, and
// the image loader's mixed batches.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanImageFolder } from '../../src/data/image-folder';
import { ImageFolderLoader } from '../../src/data/image-loader';
import { betaSample, mixImages, mixupLambda, mixupTargets } from '../../src/data/mixup';
import { Generator } from '../../src/random';
import { Tensor } from '../../src/tensor';
import { tempDir, writeClassTree } from '../helpers/image-tree';

let dir: string;
beforeAll(async () => {
  dir = tempDir();
  await writeClassTree(path.join(dir, 'train'), ['a', 'b', 'c'], 4);
  await writeClassTree(path.join(dir, 'val'), ['a'], 1);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mixup', () => {
  it('draws lambda ~ Beta(0.5, 0.5): mean 1/2, variance 1/8, U-shaped', () => {
    const gen = new Generator(11);
    const n = 40000;
    const xs = Array.from({ length: n }, () => betaSample(gen, 0.5, 0.5));
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 0.125)).toBeLessThan(0.005);  // ab / ((a+b)^2 (a+b+1)) = 0.25 / 2
    const edge = xs.filter((x) => x < 0.1 || x > 0.9).length / n;  // arcsine law: 4/pi asin(sqrt 0.1) = 0.410
    expect(Math.abs(edge - 0.41)).toBeLessThan(0.015);
    expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(mixupLambda(0.5, 3, 2, 7)).toBe(mixupLambda(0.5, 3, 2, 7));
    expect(mixupLambda(0.5, 3, 2, 7)).not.toBe(mixupLambda(0.5, 3, 2, 8));
  });

  it('builds targets lam * onehot(y) + (1 - lam) * onehot(y reversed), rows summing to 1', () => {
    const t = mixupTargets(Int32Array.from([0, 2, 2, 1]), 3, 0.3);
    expect(Array.from(t).map((v) => Number(v.toFixed(6)))).toEqual([0.3, 0.7, 0, 0, 0, 1, 0, 0, 1, 0.7, 0.3, 0]);
    for (let r = 0; r < 4; r++) expect(t[3 * r] + t[3 * r + 1] + t[3 * r + 2]).toBeCloseTo(1, 6);
  });

  it('blends each image with its mirror in the batch on the device', () => {
    const b = 3;
    const host = Float32Array.from({ length: b * 2 * 2 * 2 }, (_, i) => Math.sin(i) * 3);
    for (const memoryFormat of ['contiguous', 'channelsLast'] as const) {
      const x = Tensor.empty([b, 2, 2, 2], { memoryFormat });
      x.copyFromHost(host);
      const y = mixImages(x, 0.25);
      expect(y.memoryFormat).toBe(memoryFormat);
      const [xs, got] = [x.toArray(), y.toArray()];  // both in logical (N, C, H, W) order
      const per = 8;
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < per; j++) {
          const want = 0.25 * xs[i * per + j] + 0.75 * xs[(b - 1 - i) * per + j];
          expect(Math.abs(got[i * per + j] - want)).toBeLessThan(1e-6);
        }
      }
      x.dispose();
      y.dispose();
    }
  });

  it('gives the image loader soft targets matching its lambda, the same for any worker count', () => {
    const split = scanImageFolder(dir).train;
    const make = (workers: number) => new ImageFolderLoader({ split, batchSize: 4, train: true, imageSize: 8, workers, mixup: 0.5, seed: 5 });
    const [one, two] = [make(1), make(2)];
    try {
      const a = [...one.iterate(0)];
      const b2 = [...two.iterate(0)];
      a.forEach((batch, k) => {
        const targets = (batch as typeof batch & { targets: Tensor }).targets.toArray();
        const labels = Array.from(batch.labels.toArray());
        const lam = mixupLambda(0.5, 5, 0, k);
        expect(Array.from(targets)).toEqual(Array.from(mixupTargets(Int32Array.from(labels), 3, lam)));
        expect(Buffer.from(batch.images.toArray().buffer).equals(Buffer.from(b2[k].images.toArray().buffer))).toBe(true);
      });
      for (const x of [...a, ...b2]) x.dispose();
    } finally {
      one.close();
      two.close();
    }
  });
});

