// lineChart: well-formed SVG with the title, axis labels and series names; log axes labeled at
// powers of 10 only; NaN / Infinity / non-positive-on-log points break the line (a diverged run
// ends); empty series and no series at all still give a valid chart.
import { describe, expect, test } from 'vitest';
import { lineChart } from '../../src/plot';
import { parseXml, select, textOf } from './xml';

const pathsOf = (svg: string) => select(parseXml(svg), 'path').map((p) => p.attrs.d);
const moves = (d: string) => (d.match(/M/g) ?? []).length;
const points = (d: string) => (d.match(/[ML]/g) ?? []).length;

describe('lineChart', () => {
  const svg = lineChart({
    title: 'Loss & accuracy <run-1>',
    xLabel: 'step',
    yLabel: 'cross-entropy',
    series: [
      { name: 'train "a"', points: [[0, 2], [1, 1.5], [2, 1.2]] },
      { name: 'test', points: [[0, 2.1], [2, 1.4]], dashed: true },
    ],
  });
  const root = parseXml(svg);

  test('is well-formed XML with an svg root, width 720 and height 420 by default', () => {
    expect(root.tag).toBe('svg');
    expect(root.attrs).toMatchObject({ xmlns: 'http://www.w3.org/2000/svg', width: '720', height: '420' });
  });
  test('contains the (escaped) title, axis labels and series names', () => {
    const all = textOf(root);
    for (const s of ['Loss & accuracy <run-1>', 'step', 'cross-entropy', 'train "a"', 'test']) expect(all).toContain(s);
    expect(textOf(select(root, 'text', 'x-label')[0])).toBe('step');
    expect(textOf(select(root, 'text', 'y-label')[0])).toBe('cross-entropy');
  });
  test('one path per series, the dashed one with a dash array', () => {
    const paths = select(root, 'path');
    expect(paths.map((p) => points(p.attrs.d))).toEqual([3, 2]);
    expect(paths[0].attrs['stroke-dasharray']).toBeUndefined();
    expect(paths[1].attrs['stroke-dasharray']).toBeDefined();
  });
  test('linear ticks cover the data: y 1.2..2.1 labeled 1.2 .. 2.2 or wider', () => {
    const y = select(root, 'text', 'y-tick').map((t) => Number(textOf(t)));
    expect(Math.min(...y)).toBeLessThanOrEqual(1.2);
    expect(Math.max(...y)).toBeGreaterThanOrEqual(2.1);
  });

  test('logY: y tick labels are powers of 10, x ticks stay linear', () => {
    const log = parseXml(lineChart({
      title: 't', xLabel: 'x', yLabel: 'y', logY: true,
      series: [{ name: 's', points: [[0, 0.003], [10, 0.5], [20, 42]] }],
    }));
    const y = select(log, 'text', 'y-tick').map((t) => Number(textOf(t)));
    expect(y).toEqual([0.001, 0.01, 0.1, 1, 10, 100]);
    const x = select(log, 'text', 'x-tick').map((t) => Number(textOf(t)));
    expect(x).toContain(0);
    expect(x).toContain(20);
  });
  test('logX and logY over 20 decades: every label is 10^k', () => {
    const log = parseXml(lineChart({
      title: 't', xLabel: 'x', yLabel: 'y', logX: true, logY: true,
      series: [{ name: 's', points: [[1e-10, 1e-10], [1e10, 1e10]] }],
    }));
    for (const t of [...select(log, 'text', 'x-tick'), ...select(log, 'text', 'y-tick')]) {
      const v = Number(textOf(t));
      expect(Number(`1e${Math.round(Math.log10(v))}`)).toBe(v);
    }
  });

  test('NaN and Infinity points are skipped: a diverged run ends, and a gap splits the line', () => {
    const ended = pathsOf(lineChart({
      title: 't', xLabel: 'x', yLabel: 'y',
      series: [{ name: 'diverged', points: [[0, 2], [1, 3], [2, 9], [3, NaN], [4, Infinity], [5, NaN]] }],
    }));
    expect(ended).toHaveLength(1);
    expect(points(ended[0])).toBe(3);
    expect(ended[0]).not.toMatch(/NaN|Infinity/);
    const gap = pathsOf(lineChart({
      title: 't', xLabel: 'x', yLabel: 'y',
      series: [{ name: 'gap', points: [[0, 1], [1, 2], [2, NaN], [3, 2], [4, 1], [NaN, 5]] }],
    }));
    expect(gap.map(moves)).toEqual([1, 1]);
    expect(gap.map(points)).toEqual([2, 2]);
  });
  test('an isolated point between gaps is drawn as a dot', () => {
    const root2 = parseXml(lineChart({
      title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, NaN], [1, 2], [2, NaN]] }],
    }));
    expect(select(root2, 'path')).toHaveLength(0);
    expect(select(root2, 'circle')).toHaveLength(1);
  });
  test('logY skips y <= 0 (it cannot be placed) and the axis still holds the rest', () => {
    const svg2 = lineChart({
      title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [[0, 0], [1, -1], [2, 5], [3, 7]] }],
    });
    expect(pathsOf(svg2).map(points)).toEqual([2]);
    expect(svg2).not.toMatch(/NaN|Infinity/);
  });

  test('an empty series is listed as "(no data)"; no series at all gives "no data" and no legend', () => {
    const one = parseXml(lineChart({
      title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'full', points: [[0, 1], [1, 2]] }, { name: 'empty', points: [] }],
    }));
    expect(textOf(one)).toContain('empty (no data)');
    const none = parseXml(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] }));
    expect(textOf(none)).toContain('no data');
    expect(select(none, 'g', 'legend')).toHaveLength(0);
    const nan = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'all NaN', points: [[0, NaN]] }] });
    expect(nan).not.toMatch(/NaN"|Infinity/);
    expect(textOf(parseXml(nan))).toContain('all NaN (no data)');
  });
  test('width and height options; more series than legend rows are summarized as "+N more"', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ name: `run ${i}`, points: [[0, i], [1, i + 1]] as Array<[number, number]> }));
    const root3 = parseXml(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: many, width: 900, height: 300 }));
    expect(root3.attrs).toMatchObject({ width: '900', height: '300' });
    expect(textOf(select(root3, 'g', 'legend')[0])).toMatch(/\+\d+ more/);
    expect(select(root3, 'path')).toHaveLength(30);
  });
});
