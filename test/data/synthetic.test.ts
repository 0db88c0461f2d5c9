// Tests of src/data/synthetic.ts: same options give the same bytes, splits share the class
// patterns but not the noise, classes are balanced, and the set is learnable (a nearest class
// mean classifier fitted on the train split scores > 90% on the test split).
import { describe, expect, it } from 'vitest';
import { labelHistogram } from '../../src/data/dataset';
import { syntheticDataset } from '../../src/data/synthetic';

describe('syntheticDataset', () => {
  it('deterministic per seed; another seed gives other pixels', () => {
    const a = syntheticDataset({ size: 50, seed: 1, height: 8, width: 8 });
    expect(syntheticDataset({ size: 50, seed: 1, height: 8, width: 8 }).pixels).toEqual(a.pixels);
    expect(syntheticDataset({ size: 50, seed: 2, height: 8, width: 8 }).pixels).not.toEqual(a.pixels);
    expect([a.size, a.channels, a.height, a.width, a.numClasses, a.kind]).toEqual([50, 3, 8, 8, 10, 'u8']);
  });

  it('balanced classes (1000 samples, 10 classes: 100 each); normalization is the set\'s own statistics', () => {
    const ds = syntheticDataset({ size: 1000, channels: 1, height: 8, width: 8 });
    expect(labelHistogram(ds)).toEqual(new Array(10).fill(100));
    const mean = ds.pixels.reduce((s, v) => s + v / 255, 0) / ds.pixels.length;
    expect(ds.normalization.mean[0]).toBeCloseTo(mean, 10);
    expect(ds.normalization.std[0]).toBeGreaterThan(0.1);
  });

  it('learnable: nearest class mean from train (1000) classifies test (400) above 90%', () => {
    const opts = { channels: 3, height: 8, width: 8, numClasses: 10, seed: 4 };
    const train = syntheticDataset({ ...opts, size: 1000 });
    const test = syntheticDataset({ ...opts, size: 400, split: 'test' });
    expect(test.pixels.subarray(0, 192)).not.toEqual(train.pixels.subarray(0, 192));
    const d = 3 * 64;
    const means = Array.from({ length: 10 }, () => new Float64Array(d));
    const counts = labelHistogram(train);
    for (let i = 0; i < train.size; i++) for (let j = 0; j < d; j++) means[train.labels[i]][j] += train.pixels[i * d + j] / counts[train.labels[i]];
    let correct = 0;
    for (let i = 0; i < test.size; i++) {
      let best = -1;
      let bestDist = Infinity;
      means.forEach((m, k) => {
        let dist = 0;
        for (let j = 0; j < d; j++) dist += (test.pixels[i * d + j] - m[j]) ** 2;
        if (dist < bestDist) [best, bestDist] = [k, dist];
      });
      if (best === test.labels[i]) correct++;
    }
    expect(correct / test.size).toBeGreaterThan(0.9);
  });
});
