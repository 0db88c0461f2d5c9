// Loads the image addon layerwise_image.node (native/image: libjpeg-turbo region decode and PIL's
// bilinear resample) for the decode workers, without loading the core addon (whose NativeBuffer
// class must not be loaded in worker threads). Looked for at LAYERWISE_IMAGE_ADDON, else beside
// the core addon node-gyp-build (or LAYERWISE_ADDON) would load, else in build/Release/ and
// prebuilds/<platform>-<arch>/. Missing (built without libjpeg, or no build): null, and the image
// pipeline decodes with sharp alone; LAYERWISE_DEBUG_IMAGE=1 says why once on stderr.
// LAYERWISE_IMAGE_ADDON=none turns the fast path off (sharp for every file, e.g. to compare).
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  colorSpace: 'unknown' | 'grayscale' | 'rgb' | 'ycbcr' | 'cmyk' | 'ycck';
  progressive: boolean;
  /** EXIF orientation 1..8; absent without EXIF orientation, -1 when the EXIF block is not simple. */
  orientation?: number;
}

export interface JpegRegion {
  scaleDenom?: 1 | 2 | 4 | 8;
  cropX: number;
  cropY: number;
  cropW: number;
  cropH: number;
  /** libjpeg warnings (corrupt scan data) fail too. */
  strict?: boolean;
}

export interface DecodedRegion {
  width: number;
  height: number;
  /** The iMCU-aligned column libjpeg started decoding at (the copied columns start at cropX). */
  xOffset: number;
  scaledWidth: number;
  scaledHeight: number;
  warnings: number;
}

export interface ResizeWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ImageAddon {
  /** Header only. Throws an Error with `reason` ('corrupt' | 'truncated' | 'unsupported'). */
  jpegInfo(buf: Uint8Array): JpegHeader;
  /** Writes the region (cropW x cropH RGB, of the 1/scaleDenom image) into out. */
  decodeJpegRegion(buf: Uint8Array, region: JpegRegion, out: Uint8Array): DecodedRegion;
  /**
   * PIL's BILINEAR resize of box (fractional source pixels) to outW x outH; writes `window` of it
   * (default all). src is w x h: the whole image, or the part `source` ({x, y} in a
   * source.width x source.height image; box in that image's pixels) covering what the window reads.
   */
  resizeBilinearPil(
    src: Uint8Array,
    w: number,
    h: number,
    box: { x0: number; y0: number; x1: number; y1: number },
    outW: number,
    outH: number,
    out: Uint8Array,
    window?: ResizeWindow,
    source?: ResizeWindow,
  ): void;
}

const PACKAGE_ROOT = path.join(__dirname, '..', '..');
const FILE = 'layerwise_image.node';

/** Where the image addon is looked for, in order. */
export function imageAddonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.LAYERWISE_IMAGE_ADDON === 'none') return [];
  if (env.LAYERWISE_IMAGE_ADDON) return [path.resolve(env.LAYERWISE_IMAGE_ADDON)];
  const out: string[] = [];
  try {
    const core = env.LAYERWISE_ADDON
      ? path.resolve(env.LAYERWISE_ADDON)
      : // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('node-gyp-build').resolve(PACKAGE_ROOT) as string);
    out.push(path.join(path.dirname(core), FILE));
  } catch {
    // no core addon found: the fixed places below
  }
  out.push(path.join(PACKAGE_ROOT, 'build', 'Release', FILE));
  out.push(path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`, FILE));
  return [...new Set(out)];
}

let cached: { addon: ImageAddon | null; path: string | null; why: string } | undefined;

function loadImageAddon(): NonNullable<typeof cached> {
  const tried: string[] = [];
  for (const file of imageAddonCandidates()) {
    if (!existsSync(file)) {
      tried.push(`${file} (missing)`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return { addon: require(file) as ImageAddon, path: file, why: 'loaded' };
    } catch (err) {
      tried.push(`${file} (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  }
  const why = `no layerwise_image.node, JPEGs decode with sharp: ${tried.join('; ')}`;
  if (process.env.LAYERWISE_DEBUG_IMAGE) process.stderr.write(`layerwise: ${why}\n`);
  return { addon: null, path: null, why };
}

/** The image addon, or null when it cannot be loaded (then sharp decodes everything). */
export function imageAddon(): ImageAddon | null {
  cached ??= loadImageAddon();
  return cached.addon;
}

/** Which file was loaded, or why none was. */
export function imageAddonStatus(): { path: string | null; why: string } {
  cached ??= loadImageAddon();
  return { path: cached.path, why: cached.why };
}
