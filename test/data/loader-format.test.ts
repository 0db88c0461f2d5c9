// The loader's channels-last batches: uint8 pixels normalized straight into NHWC memory, and
// float32 datasets converted, hold exactly the values of the contiguous batches (same logical
// order, bit-identical: the normalization is the same float arithmetic in another order).
import { describe, expect, test } from 'vitest';
import { DataLoader } from '../../src/data/loader';
import { syntheticDataset } from '../../src/data/synthetic';
import { scope } from '../../src/memory';

describe('DataLoader memoryFormat', () => {
  test('channelsLast uint8 batches equal the contiguous ones, value for value', () =>
    scope(() => {
      const data = syntheticDataset({ size: 23, channels: 3, height: 5, width: 4, numClasses: 4, seed: 1 });
      const nchw = [...new DataLoader({ dataset: data, batchSize: 8 })];
      const nhwc = [...new DataLoader({ dataset: data, batchSize: 8, memoryFormat: 'channelsLast' })];
      expect(nhwc.length).toBe(3);
      nhwc.forEach((b, i) => {
        expect(b.images.memoryFormat).toBe('channelsLast');
        expect(b.images.shape).toEqual(nchw[i].images.shape);
        expect(Array.from(b.images.toArray())).toEqual(Array.from(nchw[i].images.toArray()));
        expect(Array.from(b.labels.toArray())).toEqual(Array.from(nchw[i].labels.toArray()));
      });
      for (const b of [...nchw, ...nhwc]) b.dispose();
    }));
});
