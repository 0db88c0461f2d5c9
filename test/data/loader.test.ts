// Tests of src/data/loader.ts on the CPU device: every index once per epoch, determinism per
// (seed, epoch), resume at batch k, dropLast, device normalization against (x/255-mean)/std,
// float32 datasets copied as they are, argument errors, and no native buffer left alive after an
// epoch whose batches were disposed (explicitly or by scope()).
import { describe, expect, it } from 'vitest';
import { F32ArrayDataset, U8ArrayDataset } from '../../src/data/dataset';
import { DataLoader, type Batch } from '../../src/data/loader';
import { syntheticDataset } from '../../src/data/synthetic';
import { ArgumentError } from '../../src/errors';
import { memory, scope } from '../../src/memory';
import { expectClose } from '../helpers/compare';

// 103 samples: batches of 10 leave a last batch of 3.
const data = syntheticDataset({ size: 103, channels: 2, height: 5, width: 6, numClasses: 4, seed: 3 });

/** The host contents of every batch of one iteration, each batch disposed after reading. */
function collect(it: Iterable<Batch>): { indices: number[]; labels: number[]; images: Float32Array; shape: readonly number[] }[] {
  const out = [];
  for (const b of it) {
    out.push({ indices: [...b.indices], labels: [...b.labels.toArray()], images: b.images.toArray() as Float32Array, shape: b.images.shape });
    b.dispose();
  }
  return out;
}

describe('DataLoader order', () => {
  it('shuffle, batch 10 of 103: every index exactly once in epochs 0 and 1, orders differ, last batch of 3', () => {
    const loader = new DataLoader({ dataset: data, batchSize: 10, shuffle: true, seed: 5 });
    expect(loader.length).toBe(11);
    const epochs = [0, 1].map((e) => collect(loader.iterate(e)));
    for (const batches of epochs) {
      expect(batches.map((b) => b.indices.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
      const all = batches.flatMap((b) => b.indices);
      expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
      for (const b of batches) expect(b.labels).toEqual(b.indices.map((i) => data.labels[i]));
    }
    expect(epochs[0][0].indices).not.toEqual(epochs[1][0].indices);
    expect(epochs[0].flatMap((b) => b.indices)).toEqual([...loader.epochOrder(0)]);
  });

  it('no shuffle: dataset order in every epoch', () => {
    const loader = new DataLoader({ dataset: data, batchSize: 50 });
    expect([...loader.epochOrder(3)]).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(collect(loader).map((b) => b.indices[0])).toEqual([0, 50, 100]);
  });

  it('for-of runs epochs 0, 1, ... in turn; after iterate(5, k) it continues with epoch 6', () => {
    const loader = new DataLoader({ dataset: data, batchSize: 40, shuffle: true, seed: 8 });
    const first = (e: number): number[] => [...loader.epochOrder(e).subarray(0, 40)];
    expect(collect(loader)[0].indices).toEqual(first(0));
    expect(collect(loader)[0].indices).toEqual(first(1));
    expect(loader.nextEpoch).toBe(2);
    collect(loader.iterate(5, 1));
    expect(loader.nextEpoch).toBe(6);
    expect(collect(loader)[0].indices).toEqual(first(6));
  });

  it('determinism per (seed, epoch): two loaders with seed 9 agree batch for batch (crop+flip too); seed 10 differs', () => {
    const make = (seed: number): DataLoader =>
      new DataLoader({ dataset: data, batchSize: 16, shuffle: true, seed, transform: 'crop4-pad1,flip' });
    const a = collect(make(9).iterate(2));
    const b = collect(make(9).iterate(2));
    expect(b).toEqual(a);
    expect(a[0].shape).toEqual([16, 2, 4, 4]);
    expect(collect(make(10).iterate(2))[0].indices).not.toEqual(a[0].indices);
  });

  it('resume: iterate(epoch 1, batch 4) yields exactly batches 4.. of an uninterrupted epoch 1 (crop+flip)', () => {
    const loader = new DataLoader({ dataset: data, batchSize: 10, shuffle: true, seed: 1, transform: 'crop5-pad2,flip' });
    const full = collect(loader.iterate(1));
    const resumed = collect(new DataLoader({ dataset: data, batchSize: 10, shuffle: true, seed: 1, transform: 'crop5-pad2,flip' }).iterate(1, 4));
    expect(resumed).toEqual(full.slice(4));
    const single = loader.getBatch(1, 7);
    expect(single.images.toArray()).toEqual(full[7].images);
    single.dispose();
    expect([...loader.batchIndices(1, 7)]).toEqual(full[7].indices);
    expect(collect(loader.iterate(1, 11))).toEqual([]);
  });

  it('dropLast: 10 full batches of 10 from 103 samples, 100 distinct indices', () => {
    const loader = new DataLoader({ dataset: data, batchSize: 10, shuffle: true, dropLast: true });
    expect(loader.length).toBe(10);
    const batches = collect(loader.iterate(0));
    expect(batches.every((b) => b.indices.length === 10)).toBe(true);
    expect(new Set(batches.flatMap((b) => b.indices)).size).toBe(100);
  });
});

describe('DataLoader batches', () => {
  it('u8 images normalized on the device equal (x/255 - mean[c]) / std[c] (atol 1e-5: float32 rounding)', () => {
    const norm = { mean: [0.25, 0.6], std: [0.2, 0.35] };
    const loader = new DataLoader({ dataset: data, batchSize: 32, shuffle: true, seed: 2, normalization: norm });
    for (const b of loader.iterate(0)) {
      const x = data.getImages(b.indices);
      const plane = 30;
      const want = Float64Array.from(x, (v, j) => {
        const c = Math.floor(j / plane) % 2;
        return (v / 255 - norm.mean[c]) / norm.std[c];
      });
      expect(b.images.dtype).toBe('float32');
      expect(b.labels.dtype).toBe('int32');
      expectClose(b.images.toArray(), want, { atol: 1e-5, rtol: 0 }, `batch ${b.batch}`);
      b.dispose();
    }
  });

  it('default normalization is the dataset\'s (synthetic: its own mean/std, so the epoch is ~zero-mean)', () => {
    const loader = new DataLoader({ dataset: data, batchSize: 103 });
    const [b] = collect(loader);
    const mean = b.images.reduce((a, v) => a + v, 0) / b.images.length;
    expect(Math.abs(mean)).toBeLessThan(1e-4);
  });

  it('f32 datasets are copied as they are', () => {
    const pixels = Float32Array.from({ length: 5 * 12 }, (_, i) => Math.sin(i) * 7);
    const ds = new F32ArrayDataset({ name: 'f', numClasses: 3, channels: 3, height: 2, width: 2, pixels, labels: Int32Array.from([0, 1, 2, 0, 1]) });
    const batches = collect(new DataLoader({ dataset: ds, batchSize: 2, shuffle: true, seed: 4 }).iterate(0));
    for (const b of batches) expect(b.images).toEqual(ds.getImages(b.indices));
  });

  it('argument errors: batchSize 0, transform or normalization on f32 data, batch out of range, bad normalization', () => {
    const ds = new F32ArrayDataset({ name: 'f', numClasses: 1, channels: 1, height: 1, width: 1, pixels: new Float32Array(1), labels: new Int32Array(1) });
    expect(() => new DataLoader({ dataset: data, batchSize: 0 })).toThrow(ArgumentError);
    expect(() => new DataLoader({ dataset: ds, batchSize: 1, transform: 'flip' })).toThrow(/float32 images.*no transform/);
    expect(() => new DataLoader({ dataset: ds, batchSize: 1, normalization: { mean: [0], std: [1] } })).toThrow(/not normalized/);
    expect(() => new DataLoader({ dataset: data, batchSize: 1, normalization: { mean: [0], std: [1] } })).toThrow(/1 means and 1 stds for 2 channels/);
    const loader = new DataLoader({ dataset: data, batchSize: 10 });
    expect(() => loader.iterate(0, 12)).toThrow(/batch 12 is outside \[0, 11\]/);
    expect(() => loader.getBatch(0, 11)).toThrow(/batch 11 is outside \[0, 10\]/);
    expect(() => loader.epochOrder(-1)).toThrow(/epoch must be a non-negative integer/);
  });

  it('no tensor leak: liveBuffers return to the start value after an epoch (dispose, then scope per step)', () => {
    const loader = new DataLoader({ dataset: data, batchSize: 8, shuffle: true, transform: 'crop5-pad2,flip' });
    const start = memory().liveBuffers;
    for (const b of loader.iterate(0)) {
      expect(memory().liveBuffers).toBe(start + 2);
      b.dispose();
    }
    expect(memory().liveBuffers).toBe(start);
    const it = loader.iterate(1);
    for (;;) {
      const done = scope(() => {
        const r = it.next();
        if (!r.done) r.value.images.toArray();
        return r.done;
      });
      expect(memory().liveBuffers).toBe(start);
      if (done) break;
    }
  });

  it('U8ArrayDataset validates its arrays and indices', () => {
    const mk = (labels: number[], px: number): U8ArrayDataset => new U8ArrayDataset({
      name: 'tiny', numClasses: 2, channels: 1, height: 1, width: 2, pixels: new Uint8Array(px), labels: Int32Array.from(labels),
      normalization: { mean: [0.5], std: [0.5] },
    });
    expect(() => mk([0, 1], 3)).toThrow(/3 pixel values for 2 labels/);
    expect(() => mk([0, 2], 4)).toThrow(/label 2 at index 1 is outside \[0, 2\)/);
    expect(() => mk([0, 1], 4).getImages([2])).toThrow(/sample index 2 is outside \[0, 2\)/);
  });
});
