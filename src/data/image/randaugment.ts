// RandAugment with timm's rand_augment_transform('rand-m10-n2') semantics, applied after the crop
// and flip (timm's order). Per image: n ops chosen uniformly with replacement from
// _RAND_TRANSFORMS (np.random.choice), each applied with probability p (skipped when U > p);
// magnitude m (optionally N(m, mstd), or U(0, m) for mstd > 100), clipped to [0, 10]
// (_LEVEL_DENOM = 10), then mapped to the op's argument by timm's _*_level_to_arg:
//   AutoContrast, Equalize, Invert        no argument
//   Rotate        _rotate_level_to_arg       (m/10) * 30 degrees, sign random (50%)
//   Posterize     _posterize_level_to_arg    int((m/10) * 4) bits kept (m=10: 4 bits)
//   Solarize      _solarize_level_to_arg     min(256, int((m/10) * 256)) threshold (m=10: 256,
//                                            i.e. a no-op, exactly as timm's non-increasing set)
//   SolarizeAdd   _solarize_add_level_to_arg min(128, int((m/10) * 110)) added below 128
//   Color, Contrast, Brightness, Sharpness  _enhance_level_to_arg  (m/10) * 1.8 + 0.1 (m=10: 1.9)
//   ShearX, ShearY  _shear_level_to_arg      (m/10) * 0.3, sign random
//   TranslateXRel, TranslateYRel  _translate_rel_level_to_arg  (m/10) * 0.45 of the width/height
//                                            (translate_pct default 0.45), sign random
// Fill of the geometric ops: timm's create_transform passes img_mean = round(255 * IMAGENET_MEAN)
// = (124, 116, 104); rand_augment_transform called alone defaults to _HPARAMS_DEFAULT's
// (128, 128, 128). We default to (124, 116, 104), the recipe's; `fill` overrides it.
// Interpolation of the geometric ops: timm uses hparams['interpolation'] when create_transform is
// given a fixed one, else picks bilinear or bicubic at random per op; we always use bilinear
// (the recipe's interpolation), so no random draw is spent on it.
import { Generator } from '../../random';
import * as ops from './randaugment-ops';

export interface RandAugmentSpec {
  n: number;
  m: number;
  p: number;
  mstd: number;
  /** Fill colour of Rotate/Shear/Translate; default (124, 116, 104). */
  fill?: [number, number, number];
  /** Fraction of the size for TranslateXRel/YRel at magnitude 10; default 0.45. */
  translatePct?: number;
}

/** timm's _RAND_TRANSFORMS, in timm's order (the choice index refers to it). */
export const RAND_TRANSFORMS = [
  'AutoContrast',
  'Equalize',
  'Invert',
  'Rotate',
  'Posterize',
  'Solarize',
  'SolarizeAdd',
  'Color',
  'Contrast',
  'Brightness',
  'Sharpness',
  'ShearX',
  'ShearY',
  'TranslateXRel',
  'TranslateYRel',
] as const;

export type RandOpName = (typeof RAND_TRANSFORMS)[number];

export const IMAGENET_FILL: [number, number, number] = [124, 116, 104];
const LEVEL_DENOM = 10;

/** timm's _randomly_negate: -v when U > 0.5. */
function negate(v: number, gen: Generator): number {
  return gen.next() > 0.5 ? -v : v;
}

/** The op's argument at magnitude `mag` (timm's LEVEL_TO_ARG), drawing the random sign from gen. */
export function levelToArg(name: RandOpName, mag: number, gen: Generator, translatePct = 0.45): number | null {
  const level = mag / LEVEL_DENOM;
  switch (name) {
    case 'AutoContrast':
    case 'Equalize':
    case 'Invert':
      return null;
    case 'Rotate':
      return negate(level * 30, gen);
    case 'Posterize':
      return Math.trunc(level * 4);
    case 'Solarize':
      return Math.min(256, Math.trunc(level * 256));
    case 'SolarizeAdd':
      return Math.min(128, Math.trunc(level * 110));
    case 'Color':
    case 'Contrast':
    case 'Brightness':
    case 'Sharpness':
      return level * 1.8 + 0.1;
    case 'ShearX':
    case 'ShearY':
      return negate(level * 0.3, gen);
    case 'TranslateXRel':
    case 'TranslateYRel':
      return negate(level * translatePct, gen);
  }
}

/**
 * Applies op `name` with argument `arg` (as timm's NAME_TO_OP functions do) to the HWC RGB image
 * `img` in place.
 */
export function applyOp(
  name: RandOpName,
  arg: number | null,
  img: Uint8Array,
  width: number,
  height: number,
  fill: ops.Rgb = IMAGENET_FILL,
): void {
  const a = arg ?? 0;
  let moved: Uint8Array | null = null;
  switch (name) {
    case 'AutoContrast': ops.autoContrast(img); break;
    case 'Equalize': ops.equalize(img); break;
    case 'Invert': ops.invert(img); break;
    case 'Posterize': ops.posterize(img, a); break;
    case 'Solarize': ops.solarize(img, a); break;
    case 'SolarizeAdd': ops.solarizeAdd(img, a); break;
    case 'Color': ops.color(img, a); break;
    case 'Contrast': ops.contrast(img, a); break;
    case 'Brightness': ops.brightness(img, a); break;
    case 'Sharpness': ops.sharpness(img, width, height, a); break;
    case 'Rotate':
      if (((a % 360) + 360) % 360 !== 0) moved = ops.affine(img, width, height, ops.rotateMatrix(width, height, a), fill);
      break;
    case 'ShearX': moved = ops.affine(img, width, height, [1, a, 0, 0, 1, 0], fill); break;
    case 'ShearY': moved = ops.affine(img, width, height, [1, 0, 0, a, 1, 0], fill); break;
    case 'TranslateXRel': moved = ops.affine(img, width, height, [1, 0, a * width, 0, 1, 0], fill); break;
    case 'TranslateYRel': moved = ops.affine(img, width, height, [1, 0, 0, 0, 1, a * height], fill); break;
  }
  if (moved) img.set(moved);
}

function describe(name: string, arg: number | null): string {
  if (arg === null) return name;
  return `${name}(${Number.isInteger(arg) ? arg : arg.toFixed(4)})`;
}

/**
 * RandAugment on the HWC RGB image `img` (width x height) in place; returns the ops applied,
 * e.g. ['Rotate(-30)', 'Color(1.9000)']. Draws: n op indices, then per op one U for the
 * probability and, when applied, the magnitude noise (mstd > 0) and the sign (signed ops).
 */
export function randAugment(img: Uint8Array, width: number, height: number, spec: RandAugmentSpec, gen: Generator): string[] {
  const chosen: RandOpName[] = [];
  for (let i = 0; i < spec.n; i++) chosen.push(RAND_TRANSFORMS[gen.int(RAND_TRANSFORMS.length)]);
  const applied: string[] = [];
  for (const name of chosen) {
    if (spec.p < 1 && gen.next() > spec.p) continue;
    let mag = spec.m;
    if (spec.mstd > 100) mag = gen.next() * spec.m;
    else if (spec.mstd > 0) mag = spec.m + spec.mstd * gen.normal();
    mag = Math.max(0, Math.min(mag, LEVEL_DENOM));
    const arg = levelToArg(name, mag, gen, spec.translatePct);
    applyOp(name, arg, img, width, height, spec.fill ?? IMAGENET_FILL);
    applied.push(describe(name, arg));
  }
  return applied;
}
