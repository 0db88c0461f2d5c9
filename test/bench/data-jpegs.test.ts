// The data benchmark's JPEG tree (src/bench/data-jpegs.ts): complete, decodable files of the
// requested size in the class folders torchvision's ImageFolder and our scan read alike, a reused
// tree when complete, a regenerated one when a file is damaged or the options differ, and file
// sizes like ImageNet's (~100 KB at 500x375, quality 90).
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { completeTree, generateJpegTree } from '../../src/bench/data-jpegs';
import { scanClassTree } from '../../src/data/image-folder';
import { tempDir } from '../helpers/image-tree';

const root = tempDir('lw-bench-jpegs-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bench data JPEG tree', () => {
  const small = { images: 12, width: 64, height: 48, classes: 3, dir: path.join(root, 'small') };

  it('writes complete JPEGs of the requested size in class folders, with a manifest', async () => {
    const m = await generateJpegTree(small);
    expect(m.files).toHaveLength(12);
    const split = scanClassTree(small.dir);
    expect(split.classes).toEqual(['class_00', 'class_01', 'class_02']);
    expect(split.files).toHaveLength(12);
    expect(Array.from(split.labels).filter((l) => l === 2)).toHaveLength(4);
    for (const f of split.files) {
      const { data, info } = await sharp(readFileSync(f)).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([64, 48, 3]);
      expect(data.length).toBe(64 * 48 * 3);
      expect((await sharp(f).metadata()).format).toBe('jpeg');
    }
    expect(completeTree(small)).not.toBeNull();
  });

  it('reuses a complete tree and regenerates a damaged or mismatched one', async () => {
    const file = path.join(small.dir, 'class_01', 'img_00004.JPEG');
    const before = statSync(file).mtimeMs;
    await generateJpegTree(small);
    expect(statSync(file).mtimeMs).toBe(before);
    writeFileSync(file, readFileSync(file).subarray(0, 100));  // truncated
    expect(completeTree(small)).toBeNull();
    await generateJpegTree(small);
    expect(completeTree(small)).not.toBeNull();
    expect((await sharp(file).raw().toBuffer({ resolveWithObject: true })).info.width).toBe(64);
    expect(completeTree({ ...small, quality: 80 })).toBeNull();
    expect(completeTree({ ...small, images: 13 })).toBeNull();
  });

  it('makes varied ImageNet-sized files of about 100 KB at 500x375, quality 90', async () => {
    const m = await generateJpegTree({ images: 4, dir: path.join(root, 'full') });
    const sizes = m.files.map((f) => f.bytes);
    expect(new Set(sizes).size).toBe(4);
    for (const b of sizes) {
      expect(b).toBeGreaterThan(60_000);
      expect(b).toBeLessThan(150_000);
    }
    const info = await sharp(path.join(root, 'full', m.files[0].file)).metadata();
    expect([info.width, info.height]).toEqual([500, 375]);
  });
});
