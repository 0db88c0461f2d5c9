// evaluate(): top-1 / top-5 and the mean loss counted on the device (two reads for the whole
// evaluation), checked against the float64 references of test/reference/loss.ts; rows with
// non-finite logits count as wrong and are reported in nonFinite.
import { expect, test } from 'vitest';
import { DataLoader } from '../../src/data/loader';
import { syntheticDataset } from '../../src/data/synthetic';
import { noGrad } from '../../src/autograd/tape';
import { scope } from '../../src/memory';
import { addon, kernels } from '../../src/native/addon';
import { Flatten, Linear, Sequential } from '../../src/nn';
import { evaluate, nonFiniteNote } from '../../src/train/evaluate';
import * as ref from '../reference/loss';

const data = syntheticDataset({ size: 45, channels: 1, height: 4, width: 4, numClasses: 7, seed: 11 });
const loader = (): DataLoader => new DataLoader({ dataset: data, batchSize: 16 }); // batches of 16, 16, 13

const model = (): Sequential => new Sequential(new Flatten(), new Linear(16, 7));

/** The model's logits for every sample and the labels, read on the host. */
function allLogits(m: Sequential): { logits: Float32Array; labels: Int32Array } {
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  noGrad(() => {
    for (const b of loader().iterate(0)) {
      scope(() => {
        parts.push(m.call(b.images).toArray() as Float32Array);
        labels.push(...(b.labels.toArray() as Int32Array));
        b.dispose();
      });
    }
  });
  const logits = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (logits.set(p, at), (at += p.length));
  return { logits, labels: Int32Array.from(labels) };
}

test('finite logits: counts and mean loss equal the float64 references; two device reads in all', () => {
  const m = model();
  m.eval();
  const { logits, labels } = allLogits(m);
  const [top1, top5, bad] = ref.classificationCounts(logits, labels, 7, 5);
  const loss = ref.crossEntropy(logits, labels, labels.length, 7).losses.reduce((a, b) => a + b, 0) / labels.length;
  const reads = addon.memoryStats().cpu.deviceToHostReads;
  const r = evaluate(m, loader());
  expect(addon.memoryStats().cpu.deviceToHostReads - reads).toBe(2);
  expect(r.samples).toBe(45);
  expect(r.nonFinite).toBe(bad);
  expect(r.nonFinite).toBe(0);
  expect(r.top1).toBeCloseTo((100 * top1) / 45, 10);
  expect(r.top5).toBeCloseTo((100 * top5) / 45, 10);
  // float32 per-row losses summed in float32 over 3 batches: ~1e-6 relative.
  expect(Math.abs(r.loss - loss)).toBeLessThan(1e-5 * Math.abs(loss));
  expect(nonFiniteNote(r)).toBe('');
  m.dispose();
});

test('a NaN bias: every row is wrong for top-1 and top-5 and counted in nonFinite; the loss is NaN', () => {
  const m = model();
  const linear = m.at(1) as Linear;
  kernels.fill(linear.bias!.buffer, 'float32', NaN, 1); // bias[0] = NaN: logit 0 of every row
  const r = evaluate(m, loader());
  expect(r).toMatchObject({ samples: 45, top1: 0, top5: 0, nonFinite: 45 });
  expect(Number.isNaN(r.loss)).toBe(true);
  expect(nonFiniteNote(r)).toMatch(/45 rows with non-finite logits/);
  expect(m.training).toBe(true); // mode restored
  m.dispose();
});
