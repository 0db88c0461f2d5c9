// Image-folder datasets (`--data imagenet:DIR`, `--data folder:DIR`, `--eval-data DIR`): the list
// of image files of a split and their class indices; decoding happens later, in the worker pool
// (image/pool.ts). Nothing here reads pixels.
//
// Layout: DIR/train/<class>/<image> and either DIR/val/<class>/<image> or a flat DIR/val/ with a
// labels file. Files are the entries with an image extension (case-insensitive: .jpeg .jpg .jpe
// .png .webp .tif .tiff .gif .avif), sorted by code point (as Python's sorted(), so the order is
// the same on every machine); sub-folders below a class folder are not searched.
//
// Class index: the class folders of train/ sorted by code point, as torchvision's ImageFolder.
// Exception: when every class folder is a decimal number (ImageNet-V2's 0..999), a folder's index
// is its number ("10" is class 10, not the third in string order "0", "1", "10"), and the class
// count is the largest number + 1. A val/ or --eval-data tree with class folders maps each folder
// through the training classes by name (a numeric tree by number), so V2's folder "10" is ImageNet's
// class 10 whatever order the strings sort in. A folder unknown to the training classes is an error.
//
// Flat val/: the labels come from the first of these that exists:
//   val/labels.txt (or DIR/val_labels.txt): either lines "<file> <label>" (file name relative to
//     val/, label a class index or a class folder name such as n01440764), or one label per line
//     in the sorted order of the val files (ILSVRC2012_validation_ground_truth.txt style: the
//     1-based ILSVRC ids are NOT accepted, only 0-based indices or folder names);
//   DIR/LOC_val_solution.csv (Kaggle's): "ImageId,PredictionString", the first word of the
//     prediction string is the synset; ImageId is the file name without its extension.
// Every val file needs a label and every listed file must exist: errors name the file and line.
import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { FileFormatError } from '../errors';

export const IMAGE_EXTENSIONS = ['.jpeg', '.jpg', '.jpe', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'];

/** One split of an image folder: files in a fixed order and their class indices. */
export interface ImageFolderSplit {
  /** The folder the files were listed from (for messages). */
  readonly root: string;
  /** Absolute paths, sorted (class folders in class order, files sorted within each). */
  readonly files: string[];
  readonly labels: Int32Array;
  /** Class names by index (a numeric tree: "0".."K-1"; absent numbers are ''). */
  readonly classes: string[];
  readonly numClasses: number;
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Entries of a directory, sorted; the entry types come with the listing (no stat per file, except links). */
function listDir(dir: string, what: string): Dirent[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new FileFormatError(dir, `${what}: not a directory`);
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodePoint(a.name, b.name));
}

function isKind(dir: string, e: Dirent, kind: 'file' | 'dir'): boolean {
  if (e.isSymbolicLink()) {
    const s = statSync(path.join(dir, e.name), { throwIfNoEntry: false });
    return s !== undefined && (kind === 'file' ? s.isFile() : s.isDirectory());
  }
  return kind === 'file' ? e.isFile() : e.isDirectory();
}

function subFolders(dir: string): string[] {
  return listDir(dir, 'image folder').filter((e) => !e.name.startsWith('.') && isKind(dir, e, 'dir')).map((e) => e.name);
}

function imagesIn(dir: string, what = 'class folder'): string[] {
  return listDir(dir, what).filter((e) => isImageFile(e.name) && isKind(dir, e, 'file')).map((e) => e.name);
}

/** Class names -> indices: sorted order, or the numbers of an all-numeric tree (ImageNet-V2). */
export function classIndex(folders: string[]): { classes: string[]; index: Map<string, number> } {
  const numeric = folders.length > 0 && folders.every((f) => /^\d+$/.test(f));
  const index = new Map<string, number>();
  if (numeric) {
    const k = Math.max(...folders.map(Number)) + 1;
    const classes = new Array<string>(k).fill('');
    for (const f of folders) {
      index.set(f, Number(f));
      classes[Number(f)] = f;
    }
    return { classes, index };
  }
  const classes = [...folders].sort(byCodePoint);
  classes.forEach((c, i) => index.set(c, i));
  return { classes, index };
}

/** A tree of class folders; `classes` (the training classes) maps the folder names when given. */
export function scanClassTree(root: string, classes?: string[]): ImageFolderSplit {
  const folders = subFolders(root);
  if (folders.length === 0) throw new FileFormatError(root, 'no class folders (expected <class>/<image> below it)');
  const own = classIndex(folders);
  // A numeric tree is labelled by its numbers; a named one through the training classes' names.
  const numeric = folders.every((f) => /^\d+$/.test(f));
  const known = classes && !numeric ? classIndex(classes.filter((c) => c !== '')) : own;
  const files: string[] = [];
  const labels: number[] = [];
  for (const f of [...folders].sort((a, b) => own.index.get(a)! - own.index.get(b)!)) {
    const label = known.index.get(f);
    if (label === undefined) {
      throw new FileFormatError(path.join(root, f), `class folder '${f}' is not one of the ${classes!.length} training classes`);
    }
    for (const name of imagesIn(path.join(root, f))) {
      files.push(path.join(root, f, name));
      labels.push(label);
    }
  }
  if (files.length === 0) throw new FileFormatError(root, `no image files (${IMAGE_EXTENSIONS.join(' ')}) in its class folders`);
  const cls = classes ?? own.classes;
  return { root, files, labels: Int32Array.from(labels), classes: cls, numClasses: cls.length };
}

/** A flat folder of images labelled by a labels file (see the file comment for the forms). */
export function scanFlatSplit(root: string, labelsFile: string, classes: string[]): ImageFolderSplit {
  const names = imagesIn(root, 'validation folder');
  const nameSet = new Set(names);
  if (names.length === 0) throw new FileFormatError(root, 'no image files in the flat validation folder');
  const { index } = classIndex(classes.filter((c) => c !== ''));
  const toLabel = (token: string, where: string): number => {
    const byName = index.get(token);
    if (byName !== undefined) return byName;
    if (/^\d+$/.test(token) && Number(token) < classes.length) return Number(token);
    throw new FileFormatError(labelsFile, `${where}: label '${token}' is neither a class index in [0, ${classes.length}) nor a training class folder`);
  };
  const text = readFileSync(labelsFile, 'utf8');
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const byFile = new Map<string, number>();
  if (labelsFile.toLowerCase().endsWith('.csv')) {
    const stems = new Map(names.map((n) => [n.slice(0, n.length - path.extname(n).length), n]));
    lines.forEach((line, i) => {
      if (line === '' || (i === 0 && /^imageid\s*,/i.test(line))) return;
      const [id, prediction = ''] = line.split(',');
      const file = stems.get(id.trim()) ?? (nameSet.has(id.trim()) ? id.trim() : undefined);
      if (file === undefined) throw new FileFormatError(labelsFile, `line ${i + 1}: image '${id}' is not in ${root}`);
      byFile.set(file, toLabel(prediction.trim().split(/\s+/)[0] ?? '', `line ${i + 1}`));
    });
  } else {
    const entries = lines.map((l, i) => [l.split(/\s+/), i + 1] as const).filter(([t]) => t[0] !== '');
    const paired = entries.length > 0 && entries.every(([t]) => t.length === 2);
    if (paired) {
      for (const [[file, label], line] of entries) {
        const name = file.replace(/^.*[\\/]/, '');
        if (!nameSet.has(name)) throw new FileFormatError(labelsFile, `line ${line}: image '${file}' is not in ${root}`);
        byFile.set(name, toLabel(label, `line ${line}`));
      }
    } else {
      const bad = entries.find(([t]) => t.length !== 1);
      if (bad) throw new FileFormatError(labelsFile, `line ${bad[1]}: expected '<file> <label>' or one label per line, got '${bad[0].join(' ')}'`);
      if (entries.length !== names.length) {
        throw new FileFormatError(labelsFile, `${entries.length} labels for the ${names.length} images of ${root} (one label per line, in sorted file order)`);
      }
      entries.forEach(([[label], line], i) => byFile.set(names[i], toLabel(label, `line ${line}`)));
    }
  }
  const missing = names.find((n) => !byFile.has(n));
  if (missing !== undefined) throw new FileFormatError(labelsFile, `no label for ${path.join(root, missing)}`);
  return { root, files: names.map((n) => path.join(root, n)), labels: Int32Array.from(names, (n) => byFile.get(n)!), classes, numClasses: classes.length };
}

/** The labels file of a flat val/ (null when there is none). */
export function findLabelsFile(dir: string): string | null {
  for (const f of [path.join(dir, 'val', 'labels.txt'), path.join(dir, 'val_labels.txt'), path.join(dir, 'LOC_val_solution.csv')]) {
    if (existsSync(f)) return f;
  }
  return null;
}

/** Both splits of DIR (train/ and val/), the validation classes mapped through the training ones. */
export function scanImageFolder(dir: string): { train: ImageFolderSplit; val: ImageFolderSplit } {
  const trainDir = path.join(dir, 'train');
  const valDir = path.join(dir, 'val');
  for (const d of [trainDir, valDir]) {
    if (!existsSync(d)) throw new FileFormatError(d, `missing: an image folder needs ${path.join(dir, 'train')}/<class>/* and ${path.join(dir, 'val')}/`);
  }
  const train = scanClassTree(trainDir);
  const hasClassFolders = subFolders(valDir).length > 0;
  if (hasClassFolders) return { train, val: scanClassTree(valDir, train.classes) };
  const labelsFile = findLabelsFile(dir);
  if (labelsFile === null) {
    throw new FileFormatError(valDir, `a flat validation folder needs a labels file: ${path.join(valDir, 'labels.txt')}, ${path.join(dir, 'val_labels.txt')} or ${path.join(dir, 'LOC_val_solution.csv')}`);
  }
  return { train, val: scanFlatSplit(valDir, labelsFile, train.classes) };
}

/** An --eval-data tree (ImageNet-V2 layout: DIR/<class>/* or DIR/val/<class>/*), mapped through `classes`. */
export function scanEvalFolder(dir: string, classes: string[]): ImageFolderSplit {
  const root = existsSync(path.join(dir, 'val')) ? path.join(dir, 'val') : dir;
  const split = scanClassTree(root, classes);
  const bad = split.labels.findIndex((l) => l >= classes.length);
  if (bad >= 0) throw new FileFormatError(split.files[bad], `class ${split.labels[bad]} is outside the ${classes.length} training classes`);
  return split;
}
