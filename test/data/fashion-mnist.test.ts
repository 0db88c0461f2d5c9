// Reads the real Fashion-MNIST test split from /usr/share/datasets/fashion-mnist (Debian package
// dataset-fashion-mnist) and checks its size, shapes and label histogram (1000 per class).
// Skipped, saying so in its name, when the directory is absent.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labelHistogram } from '../../src/data/dataset';
import { DataLoader } from '../../src/data/loader';
import { DEFAULT_FASHION_MNIST_DIR, parseDataSpec } from '../../src/data/spec';

const present = fs.existsSync(DEFAULT_FASHION_MNIST_DIR);
const title = present
  ? `real Fashion-MNIST test split from ${DEFAULT_FASHION_MNIST_DIR}`
  : `real Fashion-MNIST test split (SKIPPED: ${DEFAULT_FASHION_MNIST_DIR} absent; apt-get install dataset-fashion-mnist)`;

describe.skipIf(!present)(title, () => {
  it('10000 images of 1x28x28, 10 classes of 1000, one epoch of batch 128 covers them', () => {
    const ds = parseDataSpec('fashion-mnist').load('test');
    expect([ds.size, ds.channels, ds.height, ds.width, ds.numClasses, ds.kind]).toEqual([10000, 1, 28, 28, 10, 'u8']);
    expect(labelHistogram(ds)).toEqual(new Array(10).fill(1000));
    const loader = new DataLoader({ dataset: ds, batchSize: 128, shuffle: true, seed: 0 });
    expect(loader.length).toBe(79);
    let seen = 0;
    for (const b of loader.iterate(0)) {
      expect(b.images.shape).toEqual([b.indices.length, 1, 28, 28]);
      seen += b.indices.length;
      b.dispose();
    }
    expect(seen).toBe(10000);
  });
});
