// A minimal decoder with image-decode's interface (src/data/image/sample.ts), used by the pipeline
// tests through the loader's `decoder` option (loaded in the worker threads): resize to
// size x size (cover, centre), flip training samples whose seed is odd; truncated/corrupt files and
// images over maxPixels throw an ImageFileError-shaped error (file, reason).
import sharp from 'sharp';

export class ImageFileError extends Error {
  constructor(readonly file: string, readonly reason: 'corrupt' | 'truncated' | 'too-large' | 'unsupported', message: string) {
    super(`${file}: ${message}`);
    this.name = 'ImageFileError';
  }
}

interface Spec { kind: 'train' | 'eval'; size: number; maxPixels: number }

export function sampleSpecs(o: { aug: string; size?: number; cropFraction?: number; maxPixels?: number }): { train: Spec; eval: Spec } {
  const size = o.size ?? 224;
  const maxPixels = o.maxPixels ?? 100e6;
  return { train: { kind: 'train', size, maxPixels }, eval: { kind: 'eval', size, maxPixels } };
}

export async function loadSample(file: string, spec: Spec, seed: number, out: Uint8Array, offset: number): Promise<object> {
  let buf: Buffer;
  try {
    const meta = await sharp(file).metadata();
    if ((meta.width ?? 0) * (meta.height ?? 0) > spec.maxPixels) throw new ImageFileError(file, 'too-large', `${meta.width}x${meta.height} is over ${spec.maxPixels} pixels`);
    let img = sharp(file, { failOn: 'truncated' }).removeAlpha().toColourspace('srgb').resize(spec.size, spec.size, { fit: 'cover' });
    if (spec.kind === 'train' && seed % 2 === 1) img = img.flop();
    buf = await img.raw().toBuffer();
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    const m = (e as Error).message;
    throw new ImageFileError(file, /truncat|premature|end of/i.test(m) ? 'truncated' : 'corrupt', m);
  }
  out.set(buf.subarray(0, spec.size * spec.size * 3), offset);
  return { flipped: spec.kind === 'train' && seed % 2 === 1 };
}
