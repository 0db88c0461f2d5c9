// ImageNet-ReaL (Beyer et al. 2020, "Are we done with ImageNet?"): reassessed labels of the 50000
// validation images. The file (the ReaL repository's real.json) is a JSON list with one list of
// class indices per validation image, in the order of the file names ILSVRC2012_val_00000001.JPEG,
// ILSVRC2012_val_00000002.JPEG, ...; an empty list means the raters found no label for the image.
// ReaL top-1 (the paper's accuracy): over the images with a non-empty list, the share whose
// top-1 prediction is in the list. Images with an empty list are left out.
//
// Matching images to entries: the validation split is listed in class-folder order (or file order
// for a flat val/), not in ILSVRC order, so each image's entry is the rank of its file name among
// all validation file names sorted (ILSVRC2012_val_00000001 is entry 0), whatever folder it is in.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FileFormatError } from '../errors';

export interface RealLabels {
  readonly file: string;
  /** Per validation image (in the split's order): its ReaL labels. */
  readonly labels: readonly (readonly number[])[];
}

/** Parses real.json: a list of lists of non-negative integers below numClasses. */
export function parseRealLabels(file: string, text: string, numClasses: number): number[][] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(file, `not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new FileFormatError(file, 'expected a JSON list of label lists (one per validation image)');
  return data.map((entry, i) => {
    if (!Array.isArray(entry) || !entry.every((l) => Number.isSafeInteger(l) && l >= 0 && l < numClasses)) {
      throw new FileFormatError(file, `entry ${i} (${JSON.stringify(entry)}) is not a list of class indices in [0, ${numClasses})`);
    }
    return entry as number[];
  });
}

/** ReaL labels for the files of a validation split, matched by sorted file name (see the file comment). */
export function loadRealLabels(file: string, valFiles: readonly string[], numClasses: number): RealLabels {
  const all = parseRealLabels(file, readFileSync(file, 'utf8'), numClasses);
  if (all.length !== valFiles.length) {
    throw new FileFormatError(file, `${all.length} label lists for the ${valFiles.length} validation images (one list per image, in ILSVRC2012_val_* order)`);
  }
  const names = valFiles.map((f) => path.basename(f));
  const sorted = names.map((n, i) => [n, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const labels = new Array<number[]>(valFiles.length);
  sorted.forEach(([, i], rank) => (labels[i] = all[rank]));
  return { file, labels };
}

/** ReaL top-1 in %: predictions[i] is the top-1 class of validation image i (NaN if no image has labels). */
export function realTop1(predictions: ArrayLike<number>, labels: readonly (readonly number[])[]): { top1: number; counted: number } {
  let hits = 0;
  let counted = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i].length === 0) continue;
    counted++;
    if (labels[i].includes(predictions[i])) hits++;
  }
  return { top1: counted > 0 ? (100 * hits) / counted : NaN, counted };
}
