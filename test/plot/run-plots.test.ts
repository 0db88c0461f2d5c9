// Run plots from metrics.jsonl records: one run's loss (train per step, train per epoch, test
// dashed) and accuracy (top-1, top-5 per epoch); several runs overlaid with one color per run;
// null / "NaN" losses end the line; metrics.jsonl parsing with NaN tokens and a partial last line.
import { describe, expect, test } from 'vitest';
import { compareRunsPlots, metricPoints, metricsPlots, parseMetricsJsonl, type MetricsRecord } from '../../src/plot';
import { parseXml, select, textOf } from './xml';

function records(steps: number, diverge?: number): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (let s = 1; s <= steps; s++) {
    const loss = diverge !== undefined && s >= diverge ? null : 6.9 * Math.exp(-s / 40) + 0.5;
    out.push({ kind: 'step', step: s, epoch: Math.floor((s - 1) / 20), loss, lr: 0.1 });
    if (s % 20 === 0) {
      const e = s / 20 - 1;
      out.push({ kind: 'epoch', epoch: e, step: s, train_loss: loss, test_loss: loss === null ? null : loss + 0.2, test_top1: 10 + 8 * e, test_top5: 30 + 10 * e });
    }
  }
  out.push({ kind: 'note', message: 'ignored' });
  return out;
}
const pointCount = (d: string) => (d.match(/[ML]/g) ?? []).length;

describe('metricsPlots', () => {
  const plots = metricsPlots(records(100), { title: 'resnet18 <cifar>' });
  test('loss: train per step, train per epoch, test dashed; step on x, loss on a log y axis', () => {
    const root = parseXml(plots.loss);
    expect(textOf(root)).toContain('resnet18 <cifar>: loss');
    for (const s of ['train loss', 'train loss (epoch mean)', 'test loss', 'step']) expect(textOf(root)).toContain(s);
    const paths = select(root, 'path');
    expect(paths.map((p) => pointCount(p.attrs.d))).toEqual([100, 5, 5]);
    expect(paths[2].attrs['stroke-dasharray']).toBeDefined();
    for (const t of select(root, 'text', 'y-tick')) expect(Math.log10(Number(textOf(t))) % 1).toBe(0);
  });
  test('accuracy: test top-1 and top-5 against the epoch, values as recorded', () => {
    const root = parseXml(plots.accuracy);
    for (const s of ['test top-1', 'test top-5', 'epoch', 'test accuracy']) expect(textOf(root)).toContain(s);
    expect(select(root, 'path').map((p) => pointCount(p.attrs.d))).toEqual([5, 5]);
    const y = select(root, 'text', 'y-tick').map((t) => Number(textOf(t)));
    expect(Math.max(...y)).toBeGreaterThanOrEqual(70);
  });
  test('logLoss: false gives a linear loss axis', () => {
    const y = select(parseXml(metricsPlots(records(100), { logLoss: false }).loss), 'text', 'y-tick').map((t) => Number(textOf(t)));
    expect(y).toContain(2);
  });
  test('a run that diverged (loss null from step 50): the lines end there', () => {
    const root = parseXml(metricsPlots(records(100, 50)).loss);
    expect(select(root, 'path').map((p) => pointCount(p.attrs.d))).toEqual([49, 2, 2]);
  });
  test('no records: both charts are valid and say "no data"', () => {
    const p = metricsPlots([]);
    expect(textOf(parseXml(p.loss))).toContain('no data');
    expect(textOf(parseXml(p.accuracy))).toContain('no data');
  });
  test('metricPoints: null and "NaN" are non-finite points, a missing key or non-number no point', () => {
    const pts = metricPoints([
      { kind: 'step', step: 1, loss: 2 }, { kind: 'step', step: 2, loss: null }, { kind: 'step', step: 3, loss: 'NaN' },
      { kind: 'step', step: 4 }, { kind: 'step', step: 5, loss: 'x' }, { kind: 'step', loss: 1 }, { kind: 'epoch', step: 6, loss: 1 },
    ], 'step', 'step', 'loss');
    expect(pts).toEqual([[1, 2], [2, NaN], [3, NaN]]);
  });
});

describe('compareRunsPlots', () => {
  const runs = [
    { name: 'single lr', records: records(100) },
    { name: 'layerwise', records: records(80) },
    { name: 'diverged', records: records(100, 50) },
  ];
  const plots = compareRunsPlots(runs);
  test('loss: per run a solid train line and a dashed test line in the same color, one color per run', () => {
    const root = parseXml(plots.loss);
    const paths = select(root, 'path');
    expect(paths).toHaveLength(6);
    for (let i = 0; i < 3; i++) {
      const [train, testLine] = [paths[2 * i], paths[2 * i + 1]];
      expect(train.attrs.stroke).toBe(testLine.attrs.stroke);
      expect(train.attrs['stroke-dasharray']).toBeUndefined();
      expect(testLine.attrs['stroke-dasharray']).toBeDefined();
    }
    expect(new Set(paths.map((p) => p.attrs.stroke)).size).toBe(3);
    for (const r of runs) {
      expect(textOf(root)).toContain(`${r.name} train`);
      expect(textOf(root)).toContain(`${r.name} test`);
    }
    expect(pointCount(paths[4].attrs.d)).toBe(49);
    expect(pointCount(paths[5].attrs.d)).toBe(2);
  });
  test('accuracy: test top-1 per epoch, one line per run named after it', () => {
    const root = parseXml(plots.accuracy);
    expect(select(root, 'path').map((p) => pointCount(p.attrs.d))).toEqual([5, 4, 5]);
    for (const r of runs) expect(textOf(select(root, 'g', 'legend')[0])).toContain(r.name);
  });
  test('a run with epoch records only falls back to the epoch train loss', () => {
    const epochOnly = records(60).filter((r) => r.kind === 'epoch');
    const paths = select(parseXml(compareRunsPlots([{ name: 'e', records: epochOnly }]).loss), 'path');
    expect(pointCount(paths[0].attrs.d)).toBe(3);
  });
});

describe('parseMetricsJsonl', () => {
  test('reads records, skips blank lines, accepts bare NaN / Infinity', () => {
    const recs = parseMetricsJsonl('{"kind":"step","step":1,"loss":2.5}\n\n{"kind":"step","step":2,"loss":NaN}\n{"kind":"step","step":3,"loss":-Infinity}\n');
    expect(recs).toHaveLength(3);
    expect(metricPoints(recs, 'step', 'step', 'loss')).toEqual([[1, 2.5], [2, NaN], [3, -Infinity]]);
  });
  test('a partial last line (a write in progress) is skipped; a bad line elsewhere names file and line', () => {
    expect(parseMetricsJsonl('{"kind":"step","step":1,"loss":2}\n{"kind":"st')).toHaveLength(1);
    expect(() => parseMetricsJsonl('{"a":1}\n{oops\n{"a":2}\n', 'runs/x/metrics.jsonl')).toThrow(/runs\/x\/metrics.jsonl: line 2 is not valid JSON/);
    expect(() => parseMetricsJsonl('[1,2]\n')).toThrow(/line 1 is not a JSON object/);
  });
});
