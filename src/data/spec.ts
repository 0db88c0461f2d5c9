// Dataset specs as the CLI takes them ('fashion-mnist', 'cifar10:/data/cifar', 'synthetic:2048')
// parsed into a DataSource: a name and a loader per split, so that the training run opens the
// train and test splits of one source. Unknown forms give an ArgumentError listing the accepted
// ones. Paths may contain ':' (only the first ':' separates the kind). Image folders
// (imagenet:DIR, folder:DIR) are not loaded here: the source names the folder, and the training
// setup builds image-folder loaders over it (src/data/image-loader.ts).
import { ArgumentError } from '../errors';
import { loadCifarDataset } from './cifar';
import type { Dataset, Split } from './dataset';
import { loadIdxDataset } from './idx';
import { syntheticDataset } from './synthetic';
import { loadTensorsDataset } from './tensors';

export interface DataSource {
  /** The spec as given. */
  readonly spec: string;
  /** The kind: 'fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'tensors' or 'synthetic'. */
  readonly kind: string;
  /** Reads (or generates) one split (in-memory datasets; an image folder throws: see `folder`). */
  load(split: Split): Dataset;
  /** An image folder's DIR (imagenet:DIR, folder:DIR): decoded by the image loader, not loaded. */
  readonly folder?: string;
}

export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const DATA_SPEC_FORMS = [
  `fashion-mnist[:DIR] (IDX files; default DIR ${DEFAULT_FASHION_MNIST_DIR})`,
  'mnist:DIR (IDX files)',
  'cifar10:DIR (CIFAR-10 binary: DIR/cifar-10-batches-bin/ or the .bin files in DIR)',
  'cifar100:DIR (CIFAR-100 binary: DIR/cifar-100-binary/ or train.bin/test.bin in DIR)',
  'tensors:FILE.safetensors (images F32 (N, C, H, W), labels I64/I32 (N))',
  'synthetic[:N[:CxHxW[:K]]] (seeded synthetic set; default 1024 samples of 3x32x32, 10 classes)',
  'imagenet:DIR (DIR/train/<class>/*.JPEG, DIR/val/<class>/* or a flat DIR/val/ with labels; docs/data.md)',
  'folder:DIR (the same layout, any number of classes)',
];

function fail(spec: string, why: string): never {
  throw new ArgumentError(`data spec '${spec}' (--data): ${why}; accepted forms:\n  ${DATA_SPEC_FORMS.join('\n  ')}`);
}

/** Parses a data spec into a source of train/test datasets (nothing is read until load()). */
export function parseDataSpec(spec: string): DataSource {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? undefined : spec.slice(colon + 1);
  const needArg = (what: string): string => (arg ? arg : fail(spec, `${kind} needs ${what}`));
  const source = (load: (split: Split) => Dataset): DataSource => ({ spec, kind, load });
  switch (kind) {
    case 'fashion-mnist': {
      const dir = arg || DEFAULT_FASHION_MNIST_DIR;
      return source((split) => loadIdxDataset(dir, split, { variant: 'fashion-mnist' }));
    }
    case 'mnist': {
      const dir = needArg('a directory');
      return source((split) => loadIdxDataset(dir, split, { variant: 'mnist' }));
    }
    case 'cifar10':
    case 'cifar100': {
      const dir = needArg('a directory');
      return source((split) => loadCifarDataset(dir, kind, split));
    }
    case 'tensors': {
      const file = needArg('a .safetensors file');
      return source((split) => loadTensorsDataset(file, split));
    }
    case 'synthetic':
      return syntheticSource(spec, arg);
    case 'imagenet':
    case 'folder': {
      const dir = needArg('a directory');
      return {
        spec, kind, folder: dir,
        load: () => fail(spec, `${kind}:DIR is decoded by the image loader (buildData), not loaded into memory`),
      };
    }
    default:
      return fail(spec, `unknown dataset '${kind}'`);
  }
}

function syntheticSource(spec: string, arg: string | undefined): DataSource {
  const [n, shape, k, ...rest] = arg === undefined || arg === '' ? [] : arg.split(':');
  if (rest.length > 0) fail(spec, 'too many fields for synthetic');
  const int = (s: string, what: string): number =>
    /^[1-9]\d*$/.test(s) ? Number(s) : fail(spec, `${what} '${s}' is not a positive integer`);
  const size = n === undefined ? 1024 : int(n, 'N');
  let dims = [3, 32, 32];
  if (shape !== undefined) {
    const parts = shape.split('x');
    if (parts.length !== 3) fail(spec, `shape '${shape}' is not CxHxW`);
    dims = parts.map((p) => int(p, 'shape size'));
  }
  const numClasses = k === undefined ? 10 : int(k, 'K');
  const [channels, height, width] = dims;
  return {
    spec,
    kind: 'synthetic',
    load: (split) => syntheticDataset({
      size: split === 'train' ? size : Math.max(numClasses, Math.ceil(size / 4)),
      channels, height, width, numClasses, split,
    }),
  };
}
