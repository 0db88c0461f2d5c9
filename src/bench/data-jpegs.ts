// The JPEG tree of the data benchmark (data-workloads.ts, scripts/bench/torch_data_workloads.py):
// `images` ImageNet-like JPEGs (default 500x375, quality 90) in 10 class folders
// (DIR/class_00/img_00000.JPEG ...), with content that compresses like photographs (a smooth
// two-colour gradient, soft-edged ellipses and rectangles, a sinusoidal texture and per-pixel noise
// of varying strength, all drawn from the image's index), so files are ~100 KB like ImageNet's.
//
// Cache: the tree lives in os.tmpdir()/layerwise-bench-jpegs-<n>-<w>x<h> and is reused when
// complete: its manifest (written last) matches the options and every listed file exists with its
// size. A missing or incomplete tree is generated into a temporary sibling folder and renamed into
// place, so a reader never sees a half-written tree (a concurrent generator's finished tree wins).
// ensureJpegTree runs the generation (sharp is asynchronous) in a child process, so the benchmark
// runner stays synchronous.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type sharpType from 'sharp';
import { Generator } from '../random';

export interface JpegTreeOptions {
  images: number;
  width?: number;
  height?: number;
  classes?: number;
  quality?: number;
  /** Default: os.tmpdir()/layerwise-bench-jpegs-<n>-<w>x<h>. */
  dir?: string;
}

interface Manifest {
  images: number;
  width: number;
  height: number;
  classes: number;
  quality: number;
  files: { file: string; bytes: number }[];
}

const MANIFEST = 'manifest.json';

function resolved(o: JpegTreeOptions): Required<JpegTreeOptions> {
  const r = { width: 500, height: 375, classes: 10, quality: 90, ...o } as Required<JpegTreeOptions>;
  for (const k of ['images', 'width', 'height', 'classes', 'quality'] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] < 1) throw new Error(`bench data: JPEG tree option ${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.quality > 100) throw new Error(`bench data: JPEG quality must be in [1, 100], got ${r.quality}`);
  r.dir = o.dir ?? path.join(os.tmpdir(), `layerwise-bench-jpegs-${r.images}-${r.width}x${r.height}`);
  return r;
}

export function jpegTreeDir(o: JpegTreeOptions): string {
  return resolved(o).dir;
}

/** The tree's manifest when the tree is complete for these options, else null. */
export function completeTree(o: JpegTreeOptions): Manifest | null {
  const r = resolved(o);
  const file = path.join(r.dir, MANIFEST);
  if (!existsSync(file)) return null;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch {
    return null;
  }
  if (m.images !== r.images || m.width !== r.width || m.height !== r.height || m.classes !== r.classes || m.quality !== r.quality) return null;
  if (!Array.isArray(m.files) || m.files.length !== r.images) return null;
  for (const f of m.files) {
    const p = path.join(r.dir, f.file);
    if (!existsSync(p) || statSync(p).size !== f.bytes) return null;
  }
  return m;
}

/** The RGB pixels of image `index` (HWC uint8): gradient + shapes + texture + noise. */
export function syntheticPixels(index: number, width: number, height: number): Uint8Array {
  const g = new Generator(0x6a70 + index * 7919);
  const px = new Float32Array(width * height * 3);
  const c0 = [g.next() * 255, g.next() * 255, g.next() * 255];
  const c1 = [g.next() * 255, g.next() * 255, g.next() * 255];
  const angle = g.next() * Math.PI * 2;
  const ax = Math.cos(angle) / width;
  const ay = Math.sin(angle) / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - width / 2) * ax + (y - height / 2) * ay));
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) px[o + c] = c0[c] + (c1[c] - c0[c]) * t;
    }
  }
  const shapes = 6 + g.int(10);
  for (let s = 0; s < shapes; s++) {
    const cx = g.next() * width;
    const cy = g.next() * height;
    const rx = 10 + g.next() * width * 0.3;
    const ry = 10 + g.next() * height * 0.3;
    const col = [g.next() * 255, g.next() * 255, g.next() * 255];
    const ellipse = g.next() < 0.6;
    const alpha = 0.5 + g.next() * 0.5;
    for (let y = Math.max(0, Math.floor(cy - ry - 2)); y < Math.min(height, cy + ry + 2); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx - 2)); x < Math.min(width, cx + rx + 2); x++) {
        const dx = (x - cx) / rx;
        const dy = (y - cy) / ry;
        // Signed distance-like value in pixels; a 1.5 px soft edge.
        const d = ellipse ? (Math.sqrt(dx * dx + dy * dy) - 1) * Math.min(rx, ry) : (Math.max(Math.abs(dx), Math.abs(dy)) - 1) * Math.min(rx, ry);
        const a = alpha * Math.min(1, Math.max(0, 0.5 - d / 1.5));
        if (a <= 0) continue;
        const o = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) px[o + c] += (col[c] - px[o + c]) * a;
      }
    }
  }
  const texAmp = 10 + g.next() * 25;
  const fx = 0.05 + g.next() * 0.4;
  const fy = 0.05 + g.next() * 0.4;
  const noise = 26 + g.next() * 22;
  let st = (index * 2654435761 + 1) >>> 0;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const tex = texAmp * Math.sin(x * fx + Math.sin(y * 0.031) * 3) * Math.cos(y * fy);
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        st ^= st << 13;
        st ^= st >>> 17;
        st ^= st << 5;
        const n = ((st >>> 0) / 4294967296 - 0.5) * 2 * noise;
        const v = px[o + c] + tex + n;
        out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** Writes the tree (asynchronous: sharp). Returns the manifest; reuses a complete tree. */
export async function generateJpegTree(o: JpegTreeOptions): Promise<Manifest> {
  const r = resolved(o);
  const have = completeTree(r);
  if (have) return have;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as typeof sharpType;
  const tmp = `${r.dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const files: Manifest['files'] = [];
  for (let c = 0; c < r.classes; c++) mkdirSync(path.join(tmp, `class_${String(c).padStart(2, '0')}`), { recursive: true });
  for (let i = 0; i < r.images; i++) {
    const file = path.join(`class_${String(i % r.classes).padStart(2, '0')}`, `img_${String(i).padStart(5, '0')}.JPEG`);
    const jpeg = await sharp(syntheticPixels(i, r.width, r.height), { raw: { width: r.width, height: r.height, channels: 3 } })
      .jpeg({ quality: r.quality })
      .toBuffer();
    writeFileSync(path.join(tmp, file), jpeg);
    files.push({ file, bytes: jpeg.length });
  }
  const m: Manifest = { images: r.images, width: r.width, height: r.height, classes: r.classes, quality: r.quality, files };
  writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(m));
  if (existsSync(r.dir)) {
    if (completeTree(r)) {
      rmSync(tmp, { recursive: true, force: true });
      return completeTree(r)!;
    }
    rmSync(r.dir, { recursive: true, force: true });
  }
  try {
    renameSync(tmp, r.dir);
  } catch (e) {
    // Another generator renamed its tree into place first: use it if it is complete.
    rmSync(tmp, { recursive: true, force: true });
    if (!completeTree(r)) throw new Error(`bench data: could not move the JPEG tree into ${r.dir}: ${(e as Error).message}`);
  }
  return completeTree(r)!;
}

/** The tree's folder, generated first (in a child process) when missing or incomplete. */
export function ensureJpegTree(o: JpegTreeOptions): { dir: string; generated: boolean; meanBytes: number } {
  const r = resolved(o);
  let m = completeTree(r);
  const generated = m === null;
  if (m === null) {
    const child = spawnSync(process.execPath, [__filename, JSON.stringify(r)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.status !== 0) throw new Error(`bench data: generating ${r.images} JPEGs in ${r.dir} failed: ${(child.stderr || child.error?.message || '').trim()}`);
    m = completeTree(r);
    if (m === null) throw new Error(`bench data: the JPEG tree in ${r.dir} is still incomplete after generation`);
  }
  return { dir: r.dir, generated, meanBytes: m.files.reduce((a, f) => a + f.bytes, 0) / m.files.length };
}

if (require.main === module) {
  generateJpegTree(JSON.parse(process.argv[2]) as JpegTreeOptions).catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
}
