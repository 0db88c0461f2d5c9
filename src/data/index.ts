// The data package: datasets (IDX, CIFAR binary, safetensors tensors, synthetic), host-side
// transforms, the DataLoader and the CLI's data specs (parseDataSpec, in spec.ts).
export {
  NORMALIZATION, U8ArrayDataset, F32ArrayDataset, labelHistogram,
  type Dataset, type U8Dataset, type F32Dataset, type Normalization, type Split, type ArrayDatasetInit,
} from './dataset';
export {
  parseIdx, readIdxImages, readIdxLabels, loadIdxDataset, idxFileNames, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC,
  type IdxArray, type IdxImages, type IdxDatasetOptions,
} from './idx';
export { parseCifar, cifarFiles, loadCifarDataset, CIFAR_PIXELS, type CifarVariant } from './cifar';
export { loadTensorsDataset } from './tensors';
export { syntheticDataset, type SyntheticOptions } from './synthetic';
export {
  parseTransform, formatTransform, transformedDims, applyTransform, cropSample, flipSample, TRANSFORM_FORMS,
  type TrainTransform, type TransformOp, type ImageDims,
} from './transforms';
export { DataLoader, type DataLoaderOptions, type Batch } from './loader';
export { parseDataSpec, DATA_SPEC_FORMS, DEFAULT_FASHION_MNIST_DIR, type DataSource } from './spec';
export { mixSeed } from './seeds';
