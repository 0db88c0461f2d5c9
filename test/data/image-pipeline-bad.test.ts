// Bad files in the image-folder pipeline: without --skip-bad-images a truncated or corrupt file
// stops the iteration with an error naming it; with it, the sample is replaced by another of the
// same class (labels never shift), counted, and listed once per file in bad-images.jsonl; images
// over the pixel limit are refused the same way.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanImageFolder } from '../../src/data/image-folder';
import { ImageFolderLoader, type ImageLoaderOptions } from '../../src/data/image-loader';
import { jpeg, tempDir, writeClassTree } from '../helpers/image-tree';

let dir: string;
let truncated: string;
let corrupt: string;
beforeAll(async () => {
  dir = tempDir();
  const files = await writeClassTree(path.join(dir, 'train'), ['a', 'b', 'c'], 6);
  await writeClassTree(path.join(dir, 'val'), ['a'], 1);
  truncated = files[7];  // class b
  const whole = readFileSync(truncated);
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
  corrupt = files[14];  // class c
  writeFileSync(corrupt, Buffer.concat([whole.subarray(0, 4), Buffer.alloc(200, 0x55)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loader(o: Partial<ImageLoaderOptions>): ImageFolderLoader {
  return new ImageFolderLoader({ split: scanImageFolder(dir).train, batchSize: 5, train: true, seed: 1, imageSize: 8, workers: 2, ...o });
}

function labelsOfEpoch(l: ImageFolderLoader, epoch: number): { labels: number[]; expected: number[]; images: Buffer[] } {
  const labels: number[] = [];
  const expected: number[] = [];
  const images: Buffer[] = [];
  for (const b of l.iterate(epoch)) {
    labels.push(...Array.from(b.labels.toArray()));
    expected.push(...Array.from(b.indices, (i) => l.split.labels[i]));
    images.push(Buffer.from((b.images.toArray() as Float32Array).buffer));
    b.dispose();
  }
  return { labels, expected, images };
}

describe('bad image files', () => {
  it('stop the epoch with an error naming the file without --skip-bad-images', () => {
    const l = loader({});
    try {
      expect(() => labelsOfEpoch(l, 0)).toThrow(new RegExp(`(${path.basename(truncated)}|${path.basename(corrupt)}).*--skip-bad-images`));
      // The loader stays usable: the next iteration starts cleanly (and fails the same way).
      expect(() => labelsOfEpoch(l, 0)).toThrow(/skip-bad-images/);
    } finally {
      l.close();
    }
  });

  it('are replaced by a same-class sample with --skip-bad-images, counted and listed once', () => {
    const log = path.join(dir, 'bad-images.jsonl');
    const l = loader({ skipBadImages: true });
    const l3 = loader({ skipBadImages: true, workers: 3 });
    try {
      l.logBadImagesTo(log);
      const e0 = labelsOfEpoch(l, 0);
      expect(e0.labels).toEqual(e0.expected);
      expect(e0.labels.length).toBe(18);
      expect(l.takeStats().bad_images).toBe(2);
      labelsOfEpoch(l, 1);
      expect(l.takeStats().bad_images).toBe(2);
      const listed = readFileSync(log, 'utf8').trim().split('\n').map((x) => JSON.parse(x));
      expect(listed.map((x) => x.file).sort()).toEqual([truncated, corrupt].sort());
      expect(listed.every((x) => x.epoch === 1 && ['truncated', 'corrupt'].includes(x.reason))).toBe(true);
      // The replacement is deterministic: the same bytes with another worker count.
      const again = labelsOfEpoch(l3, 0);
      again.images.forEach((img, k) => expect(img.equals(e0.images[k])).toBe(true));
    } finally {
      l.close();
      l3.close();
    }
  });

  it('refuse images over the pixel limit the same way', async () => {
    const small = tempDir();
    try {
      await writeClassTree(path.join(small, 'train'), ['a', 'b'], 3);
      const big = path.join(small, 'train', 'a', 'img9999.JPEG');
      writeFileSync(big, await jpeg(200, 150, 7));
      await writeClassTree(path.join(small, 'val'), ['a'], 1);
      const split = scanImageFolder(small).train;
      const make = (skip: boolean) => new ImageFolderLoader({ split, batchSize: 5, train: true, seed: 1, imageSize: 8, workers: 2, maxPixels: 10_000, skipBadImages: skip });
      const strict = make(false);
      try {
        expect(() => labelsOfEpoch(strict, 0)).toThrow(/img9999\.JPEG.*(pixel|large|limit)/i);
      } finally {
        strict.close();
      }
      const skipping = make(true);
      try {
        const e = labelsOfEpoch(skipping, 0);
        expect(e.labels).toEqual(e.expected);
        expect(skipping.badImages.map((b) => [b.file, b.reason])).toEqual([[big, 'too-large']]);
      } finally {
        skipping.close();
      }
    } finally {
      rmSync(small, { recursive: true, force: true });
    }
  });

  it('report workers that cannot load the decoder instead of waiting for them', () => {
    const decoder = path.join(dir, 'broken-decoder.js');
    writeFileSync(decoder, "throw new Error('decoder boom');\n");
    const l = loader({ decoder });
    try {
      expect(() => labelsOfEpoch(l, 0)).toThrow(/all 2 decode workers failed to start: decode worker \d failed to start: Error: decoder boom/);
    } finally {
      l.close();
    }
  });
});
