// Tests of src/data/tensors.ts: a safetensors file of float32 images and int64 / int32 labels
// reads back exactly (no normalization), the test split and its fallback, the class count, and
// one test per bad file (missing key, wrong rank, wrong dtype, count mismatch, bad label).
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTensorsDataset } from '../../src/data/tensors';
import { writeSafetensors, type TensorInput } from '../../src/io/safetensors';
import { expectFileError, tempDir } from './formats';

const dir = tempDir('tensors');
let count = 0;

function images(n: number, c = 2, h = 3, w = 2): TensorInput {
  return { dtype: 'F32', shape: [n, c, h, w], data: Float32Array.from({ length: n * c * h * w }, (_, i) => i * 0.25 - 3.5) };
}
const i64 = (values: number[]): TensorInput => ({ dtype: 'I64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
const i32 = (values: number[]): TensorInput => ({ dtype: 'I32', shape: [values.length], data: Int32Array.from(values) });

function write(tensors: Record<string, TensorInput>, metadata?: Record<string, string>): string {
  const file = path.join(dir, `t${count++}.safetensors`);
  writeSafetensors(file, tensors, metadata);
  return file;
}

describe('tensors dataset', () => {
  it('I64 labels: images come back as written, classes = max label + 1', () => {
    const file = write({ images: images(3), labels: i64([4, 0, 2]) });
    const ds = loadTensorsDataset(file);
    expect([ds.kind, ds.size, ds.channels, ds.height, ds.width, ds.numClasses]).toEqual(['f32', 3, 2, 3, 2, 5]);
    expect(ds.getImages([0, 1, 2])).toEqual(images(3).data);
    expect([...ds.getLabels([2, 0])]).toEqual([2, 4]);
  });

  it('I32 labels, metadata num_classes, and a test split from test_images/test_labels', () => {
    const file = write({ images: images(2), labels: i32([1, 0]), test_images: images(1), test_labels: i32([1]) }, { num_classes: '10' });
    expect(loadTensorsDataset(file).numClasses).toBe(10);
    const test = loadTensorsDataset(file, 'test');
    expect([test.size, test.numClasses, test.name]).toEqual([1, 10, 'tensors-test']);
  });

  it('without test tensors the test split is the training tensors, and its name says so', () => {
    const file = write({ images: images(2), labels: i64([1, 0]) });
    const test = loadTensorsDataset(file, 'test');
    expect(test.size).toBe(2);
    expect(test.name).toMatch(/training tensors/);
  });
});

describe('tensors dataset errors name the file and the problem', () => {
  it('missing key: labels', () => {
    const file = write({ images: images(2) });
    expectFileError(() => loadTensorsDataset(file), file, /missing tensor 'labels' \(the file has: images\)/);
  });

  it('wrong rank: images (N, H, W)', () => {
    const file = write({ images: { dtype: 'F32', shape: [2, 3, 3], data: new Float32Array(18) }, labels: i64([0, 1]) });
    expectFileError(() => loadTensorsDataset(file), file, /'images' has shape \[2, 3, 3\] \(rank 3\), expected rank 4/);
  });

  it('wrong rank: labels (N, 1)', () => {
    const file = write({ images: images(2), labels: { dtype: 'I64', shape: [2, 1], data: new BigInt64Array(2) } });
    expectFileError(() => loadTensorsDataset(file), file, /'labels' has shape \[2, 1\] \(rank 2\), expected rank 1/);
  });

  it('wrong dtype: F64 images', () => {
    const file = write({ images: { dtype: 'F64', shape: [1, 1, 1, 1], data: new Float64Array(1) }, labels: i64([0]) });
    expectFileError(() => loadTensorsDataset(file), file, /'images' has dtype F64, expected F32/);
  });

  it('count mismatch: 3 images, 2 labels', () => {
    const file = write({ images: images(3), labels: i64([0, 1]) });
    expectFileError(() => loadTensorsDataset(file), file, /'labels' has 2 labels but 'images' has 3 images/);
  });

  it('label outside [0, num_classes)', () => {
    const file = write({ images: images(2), labels: i64([0, -1]) });
    expectFileError(() => loadTensorsDataset(file), file, /'labels'\[1\] = -1 is outside \[0, 1\)/);
  });

  it('unreadable path', () => {
    const file = path.join(dir, 'missing.safetensors');
    expectFileError(() => loadTensorsDataset(file), file, /cannot read.*ENOENT/);
  });
});
