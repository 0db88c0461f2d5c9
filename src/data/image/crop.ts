// Crop geometry of the ImageNet sample transforms, as pure functions of the image size (and, for
// the training crop, a seeded Generator): torchvision's RandomResizedCrop.get_params, and the
// evaluation transform Resize(shorter side) + CenterCrop. Python's round() (half to even) is used
// wherever torchvision calls it, so hand-computed torchvision boxes are reproduced exactly.
import { Generator } from '../../random';

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Python 3's round(): nearest integer, ties to even. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Uniform in [a, b) from the generator (torch.empty(1).uniform_(a, b)). */
function uniform(gen: Generator, a: number, b: number): number {
  return a + (b - a) * gen.next();
}

/** Number of sampling attempts before the centre-crop fallback (torchvision: 10). */
export const CROP_TRIES = 10;

/**
 * torchvision.transforms.RandomResizedCrop.get_params on a width x height image: up to 10 tries of
 * target_area = area * U(scale), aspect = exp(U(log ratio)), w = round(sqrt(area * aspect)),
 * h = round(sqrt(area / aspect)), accepted when 0 < w <= width and 0 < h <= height, with the
 * top-left corner uniform over the valid positions (top drawn before left, as torch.randint does
 * i then j); otherwise a centre crop of the whole image with its aspect clamped into `ratio`.
 * Draws 2 values per try plus 2 on success, none in the fallback.
 */
export function sampleCropBox(
  width: number,
  height: number,
  scale: [number, number],
  ratio: [number, number],
  gen: Generator,
): CropBox & { tries: number; fallback: boolean } {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let t = 0; t < CROP_TRIES; t++) {
    const targetArea = area * uniform(gen, scale[0], scale[1]);
    const aspect = Math.exp(uniform(gen, logLo, logHi));
    const w = pyRound(Math.sqrt(targetArea * aspect));
    const h = pyRound(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = gen.int(height - h + 1);
      const left = gen.int(width - w + 1);
      return { left, top, width: w, height: h, tries: t + 1, fallback: false };
    }
  }
  const inRatio = width / height;
  const rMin = Math.min(ratio[0], ratio[1]);
  const rMax = Math.max(ratio[0], ratio[1]);
  let w: number;
  let h: number;
  if (inRatio < rMin) {
    w = width;
    h = pyRound(w / rMin);
  } else if (inRatio > rMax) {
    h = height;
    w = pyRound(h * rMax);
  } else {
    w = width;
    h = height;
  }
  return {
    left: Math.floor((width - w) / 2),
    top: Math.floor((height - h) / 2),
    width: w,
    height: h,
    tries: CROP_TRIES,
    fallback: true,
  };
}

/**
 * torchvision.transforms.Resize(resize) on a width x height image: the shorter side becomes
 * `resize`, the longer int(resize * long / short) (truncated, as torchvision computes it).
 */
export function resizeShorter(width: number, height: number, resize: number): { width: number; height: number } {
  if (width <= height) return { width: resize, height: Math.floor((resize * height) / width) };
  return { width: Math.floor((resize * width) / height), height: resize };
}

/** torchvision.transforms.CenterCrop(size) offsets: int(round((dim - size) / 2)). */
export function centerCropOffsets(width: number, height: number, size: number): { left: number; top: number } {
  return { left: pyRound((width - size) / 2), top: pyRound((height - size) / 2) };
}
