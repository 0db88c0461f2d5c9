// A line chart as a plain SVG string: axes with nice ticks (linear or log10 on either axis),
// gridlines, a legend at the right and one path per series. Used for loss and accuracy curves.
// Points that cannot be drawn (NaN, +-Infinity, or <= 0 on a log axis) break the line, so a run
// that diverged shows as a line that ends; an isolated point between breaks gets a dot.
import {
  ellipsize, el, escapeXml, fmt, formatLogTick, formatTicks, linearTicks, logTicks, paletteColor,
  scale, svgOpen, text, textWidth, type Ticks,
} from './svg';

export interface LineSeries {
  name: string;
  /** [x, y] pairs, drawn in the order given. */
  points: ReadonlyArray<readonly [number, number]>;
  dashed?: boolean;
  /** CSS color; default: the palette color of the series' index. */
  color?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  logY?: boolean;
  logX?: boolean;
  width?: number;
  height?: number;
}

const LEGEND_CHARS = 32;
const LEGEND_ROW = 18;

/** Whether a point can be placed on the axes. */
function drawable(x: number, y: number, logX: boolean, logY: boolean): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
}

function axisTicks(values: number[], log: boolean, count: number): Ticks {
  if (values.length === 0) return log ? logTicks(1, 10) : linearTicks(0, 1, count);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return log ? logTicks(lo, hi) : linearTicks(lo, hi, count);
}

/** The runs of consecutive drawable points of a series, as pixel coordinates. */
function segments(
  s: LineSeries, logX: boolean, logY: boolean, sx: (v: number) => number, sy: (v: number) => number,
): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  for (const [x, y] of s.points) {
    if (drawable(x, y, logX, logY)) cur.push([sx(x), sy(y)]);
    else if (cur.length > 0) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export function lineChart(options: LineChartOptions): string {
  const { title, xLabel, yLabel, series } = options;
  const logX = options.logX ?? false;
  const logY = options.logY ?? false;
  const width = options.width ?? 720;
  const height = options.height ?? 420;

  const xs: number[] = [];
  const ys: number[] = [];
  const hasData = series.map((s) => {
    let any = false;
    for (const [x, y] of s.points) {
      if (!drawable(x, y, logX, logY)) continue;
      xs.push(x);
      ys.push(y);
      any = true;
    }
    return any;
  });

  const legendNames = series.map((s, i) => ellipsize(s.name, LEGEND_CHARS) + (hasData[i] ? '' : ' (no data)'));
  const legendWidth = series.length === 0 ? 0 : 44 + Math.max(...legendNames.map((n) => textWidth(n, 12)));
  const m = { top: 44, right: 16 + legendWidth, bottom: 52, left: 72 };
  const plotW = Math.max(40, width - m.left - m.right);
  const plotH = Math.max(40, height - m.top - m.bottom);
  const x0 = m.left;
  const x1 = m.left + plotW;
  const y0 = m.top + plotH;
  const y1 = m.top;

  const xt = axisTicks(xs, logX, Math.max(2, Math.round(plotW / 90)));
  const yt = axisTicks(ys, logY, Math.max(2, Math.round(plotH / 60)));
  const sx = scale(xt.domain, x0, x1, logX);
  const sy = scale(yt.domain, y0, y1, logY);
  const xNames = logX ? xt.ticks.map(formatLogTick) : formatTicks(xt.ticks, xt.step);
  const yNames = logY ? yt.ticks.map(formatLogTick) : formatTicks(yt.ticks, yt.step);

  const parts: string[] = [svgOpen(width, height, title)];
  parts.push(text(width / 2, 26, title, { 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 'bold' }));

  // Gridlines: minor (log only) lighter than major.
  const grid: string[] = [];
  for (const v of xt.minor) grid.push(el('line', { x1: sx(v), y1: y0, x2: sx(v), y2: y1, stroke: '#f0f0f0' }));
  for (const v of yt.minor) grid.push(el('line', { x1: x0, y1: sy(v), x2: x1, y2: sy(v), stroke: '#f0f0f0' }));
  for (const v of xt.ticks) grid.push(el('line', { x1: sx(v), y1: y0, x2: sx(v), y2: y1, stroke: '#dddddd' }));
  for (const v of yt.ticks) grid.push(el('line', { x1: x0, y1: sy(v), x2: x1, y2: sy(v), stroke: '#dddddd' }));
  parts.push(el('g', { class: 'grid', 'stroke-width': 1 }, grid.join('')));

  // Axes, ticks and their labels.
  const axes: string[] = [
    el('line', { x1: x0, y1: y0, x2: x1, y2: y0, stroke: '#333333' }),
    el('line', { x1: x0, y1: y0, x2: x0, y2: y1, stroke: '#333333' }),
  ];
  xt.ticks.forEach((v, i) => {
    axes.push(el('line', { x1: sx(v), y1: y0, x2: sx(v), y2: y0 + 5, stroke: '#333333' }));
    axes.push(text(sx(v), y0 + 18, xNames[i], { 'text-anchor': 'middle', class: 'x-tick' }));
  });
  yt.ticks.forEach((v, i) => {
    axes.push(el('line', { x1: x0 - 5, y1: sy(v), x2: x0, y2: sy(v), stroke: '#333333' }));
    axes.push(text(x0 - 8, sy(v) + 4, yNames[i], { 'text-anchor': 'end', class: 'y-tick' }));
  });
  axes.push(text((x0 + x1) / 2, height - 12, xLabel, { 'text-anchor': 'middle', class: 'x-label' }));
  axes.push(
    text(0, 0, yLabel, {
      'text-anchor': 'middle', class: 'y-label', transform: `translate(18 ${fmt((y0 + y1) / 2)}) rotate(-90)`,
    }),
  );
  parts.push(el('g', { class: 'axes', fill: '#333333' }, axes.join('')));

  // Series: one group each, the full name as its tooltip.
  if (!hasData.some(Boolean)) {
    parts.push(text((x0 + x1) / 2, (y0 + y1) / 2, 'no data', { 'text-anchor': 'middle', fill: '#999999', 'font-size': 14 }));
  }
  series.forEach((s, i) => {
    const color = s.color ?? paletteColor(i);
    const body: string[] = [el('title', {}, escapeXml(s.name))];
    for (const seg of segments(s, logX, logY, sx, sy)) {
      if (seg.length === 1) {
        body.push(el('circle', { cx: seg[0][0], cy: seg[0][1], r: 2.5, fill: color }));
        continue;
      }
      const d = seg.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${fmt(x)} ${fmt(y)}`).join('');
      body.push(
        el('path', {
          d, fill: 'none', stroke: color, 'stroke-width': 1.75, 'stroke-linejoin': 'round',
          'stroke-dasharray': s.dashed ? '6 4' : undefined,
        }),
      );
    }
    parts.push(el('g', { class: 'series' }, body.join('')));
  });

  // Legend at the right of the plot; rows that do not fit are summarized.
  if (series.length > 0) {
    const lx = x1 + 16;
    const fit = Math.max(1, Math.floor(plotH / LEGEND_ROW));
    const shown = series.length <= fit ? series.length : fit - 1;
    const rows: string[] = [];
    for (let i = 0; i < shown; i++) {
      const y = y1 + 8 + i * LEGEND_ROW;
      rows.push(
        el('line', {
          x1: lx, y1: y, x2: lx + 24, y2: y, stroke: series[i].color ?? paletteColor(i), 'stroke-width': 2,
          'stroke-dasharray': series[i].dashed ? '6 4' : undefined,
        }),
        text(lx + 30, y + 4, legendNames[i], { fill: hasData[i] ? '#333333' : '#999999' }),
      );
    }
    if (shown < series.length) {
      rows.push(text(lx, y1 + 8 + shown * LEGEND_ROW + 4, `+${series.length - shown} more`, { fill: '#666666' }));
    }
    parts.push(el('g', { class: 'legend' }, rows.join('')));
  }
  parts.push('</svg>\n');
  return parts.join('');
}
