// Image trees for the pipeline tests, written with sharp into a temp dir. Pixels of image i of
// class c are a gradient plus the value (40 c + 3 i) % 256 in the red channel, so tests can tell
// which file a decoded sample came from.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

export function tempDir(prefix = 'lw-img-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A w x h RGB JPEG whose mean red value encodes `tag`. */
export async function jpeg(w: number, h: number, tag: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      px[o] = tag % 256;
      px[o + 1] = Math.floor((255 * x) / Math.max(w - 1, 1));
      px[o + 2] = Math.floor((255 * y) / Math.max(h - 1, 1));
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

/** DIR/<split>/<class>/img<i>.JPEG for each class name; returns the files written. */
export async function writeClassTree(root: string, classes: string[], perClass: number, w = 64, h = 48): Promise<string[]> {
  const files: string[] = [];
  for (const [c, name] of classes.entries()) {
    mkdirSync(path.join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const f = path.join(root, name, `img${String(i).padStart(4, '0')}.JPEG`);
      writeFileSync(f, await jpeg(w, h, 40 * c + 3 * i));
      files.push(f);
    }
  }
  return files;
}
