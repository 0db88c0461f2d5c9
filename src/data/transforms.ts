// Training-time augmentation of uint8 (B, C, H, W) batches on the host, before the copy to the
// device: random crop with zero padding (torchvision RandomCrop(size, padding), fill 0) and
// horizontal flip (RandomHorizontalFlip, p = 0.5): the CIFAR recipe of docs/method.md section 8.
// All randomness comes from the Generator passed in, drawn sample by sample in op order (crop:
// top then left, each uniform over the valid offsets; flip: one draw), so a batch's augmentation
// is a function of the generator's seed. Specs are strings: 'crop32-pad4,flip', 'flip', 'none'.
import { ArgumentError } from '../errors';
import type { Generator } from '../random';

export type TransformOp =
  | { kind: 'crop'; size: number; padding: number }
  | { kind: 'flip'; p: number };

export interface TrainTransform {
  /** Applied in order to each sample; at most one crop. */
  readonly ops: readonly TransformOp[];
}

export interface ImageDims {
  channels: number;
  height: number;
  width: number;
}

export const TRANSFORM_FORMS = "'none', or ops joined by ',': 'crop<SIZE>[-pad<P>]' (random crop, zero padding P), 'flip' (p=0.5)";

/** Parses a transform spec such as 'crop32-pad4,flip' or 'none'. */
export function parseTransform(spec: string): TrainTransform {
  const text = spec.trim();
  if (text === '' || text === 'none') return { ops: [] };
  const ops: TransformOp[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const crop = /^crop(\d+)(?:-pad(\d+))?$/.exec(part);
    if (crop) {
      const size = Number(crop[1]);
      if (size <= 0) throw new ArgumentError(`transform '${spec}': crop size must be positive`);
      ops.push({ kind: 'crop', size, padding: crop[2] === undefined ? 0 : Number(crop[2]) });
    } else if (part === 'flip') {
      ops.push({ kind: 'flip', p: 0.5 });
    } else {
      throw new ArgumentError(`transform '${spec}': unknown op '${part}' (accepted: ${TRANSFORM_FORMS})`);
    }
  }
  if (ops.filter((o) => o.kind === 'crop').length > 1) throw new ArgumentError(`transform '${spec}': at most one crop`);
  return { ops };
}

/** The spec string of a transform (parseTransform's inverse). */
export function formatTransform(t: TrainTransform): string {
  if (t.ops.length === 0) return 'none';
  return t.ops.map((o) => (o.kind === 'flip' ? 'flip' : `crop${o.size}${o.padding > 0 ? `-pad${o.padding}` : ''}`)).join(',');
}

/** The sample shape after the transform; throws when a crop does not fit the padded input. */
export function transformedDims(t: TrainTransform, dims: ImageDims): ImageDims {
  let { channels, height, width } = dims;
  for (const op of t.ops) {
    if (op.kind !== 'crop') continue;
    if (op.size > height + 2 * op.padding || op.size > width + 2 * op.padding) {
      throw new ArgumentError(`transform crop${op.size}-pad${op.padding}: does not fit ${height}x${width} images `
        + `padded by ${op.padding}`);
    }
    height = op.size;
    width = op.size;
  }
  return { channels, height, width };
}

/**
 * Applies `t` to `n` samples of `input` ((n, C, H, W) per `dims`). Flips happen in place; a crop
 * writes into `out` ((n, C, S, S), at least that long). Returns the array holding the result
 * (`input` when there is no crop, else `out`) and its sample shape.
 */
export function applyTransform(
  t: TrainTransform, input: Uint8Array, n: number, dims: ImageDims, gen: Generator, out?: Uint8Array,
): { data: Uint8Array; dims: ImageDims } {
  const outDims = transformedDims(t, dims);
  const inSize = dims.channels * dims.height * dims.width;
  const outSize = outDims.channels * outDims.height * outDims.width;
  const hasCrop = t.ops.some((o) => o.kind === 'crop');
  if (input.length < n * inSize) throw new ArgumentError(`applyTransform: input holds ${input.length} bytes, ${n} samples need ${n * inSize}`);
  const target = hasCrop ? out ?? new Uint8Array(n * outSize) : input;
  if (target.length < n * outSize) throw new ArgumentError(`applyTransform: output holds ${target.length} bytes, ${n} samples need ${n * outSize}`);
  for (let i = 0; i < n; i++) {
    let buf = input;
    let at = i * inSize;
    let cur = dims;
    for (const op of t.ops) {
      if (op.kind === 'crop') {
        const top = gen.int(cur.height + 2 * op.padding - op.size + 1);
        const left = gen.int(cur.width + 2 * op.padding - op.size + 1);
        cropSample(buf, at, cur, target, i * outSize, op.size, top - op.padding, left - op.padding);
        buf = target;
        at = i * outSize;
        cur = outDims;
      } else if (gen.next() < op.p) {
        flipSample(buf, at, cur);
      }
    }
  }
  return { data: target, dims: outDims };
}

/**
 * out[c, y, x] = src[c, y + top, x + left] where inside the image, else 0 (top/left relative to
 * the unpadded image, so negative in the padding).
 */
export function cropSample(
  src: Uint8Array, srcAt: number, dims: ImageDims, out: Uint8Array, outAt: number, size: number, top: number, left: number,
): void {
  const { channels, height, width } = dims;
  const x0 = Math.max(0, -left);
  const x1 = Math.min(size, width - left);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      const row = outAt + (c * size + y) * size;
      const sy = y + top;
      if (sy < 0 || sy >= height || x1 <= x0) {
        for (let x = 0; x < size; x++) out[row + x] = 0;
        continue;
      }
      const from = srcAt + (c * height + sy) * width + left;
      // Plain loops: rows are short (32 bytes), where fill/set/subarray calls cost more than the copy.
      for (let x = 0; x < x0; x++) out[row + x] = 0;
      for (let x = x0; x < x1; x++) out[row + x] = src[from + x];
      for (let x = Math.max(x1, x0); x < size; x++) out[row + x] = 0;
    }
  }
}

/** Mirrors one (C, H, W) sample left-right in place. */
export function flipSample(buf: Uint8Array, at: number, dims: ImageDims): void {
  const { channels, height, width } = dims;
  for (let r = 0; r < channels * height; r++) {
    const row = at + r * width;
    for (let a = row, b = row + width - 1; a < b; a++, b--) {
      const t = buf[a];
      buf[a] = buf[b];
      buf[b] = t;
    }
  }
}
