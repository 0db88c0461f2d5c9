// The eta chart in the style of the paper's Figures 4 and 5: eta per parameter tensor in model
// order on a log10 y axis, one bar per tensor colored by its kind, tensor names as rotated x tick
// labels (thinned to at most 40 above 40 tensors), and a horizontal line at eta = 1 (docs/method.md
// section 2.3: the parameter-weighted mean of eta is 1). Bars start at eta = 1, so a bar going up is
// a tensor trained faster than the base learning rate and one going down, slower.
import {
  ellipsize, el, escapeXml, fmt, formatLogTick, formatNumber, logTicks, scale, svgOpen, text, textWidth,
} from './svg';

/** How the chart groups tensors; the roles of nn/parameter.ts beyond these count as 'other'. */
export type EtaKind = 'weight' | 'bias' | 'norm_scale' | 'norm_shift' | 'other';

export interface EtaParam {
  name: string;
  eta: number;
  /** A ParameterRole ('weight', 'bias', 'norm_scale', ...); inferred from the name when absent. */
  role?: string;
}

export interface EtaChartOptions {
  title: string;
  /** Tensors in model order (an eta profile's `params` fits as is). */
  params: readonly EtaParam[];
  /** 'weights': conv / linear weights only. */
  only?: 'weights';
  width?: number;
  /** Height of the plot area alone; the label band below it grows with the names. */
  plotHeight?: number;
}

export const ETA_KIND_COLORS: Readonly<Record<EtaKind, string>> = {
  weight: '#1f77b4',
  bias: '#ff7f0e',
  norm_scale: '#2ca02c',
  norm_shift: '#d62728',
  other: '#9467bd',
};

const KIND_LABELS: Readonly<Record<EtaKind, string>> = {
  weight: 'conv/linear weight',
  bias: 'bias',
  norm_scale: 'norm scale',
  norm_shift: 'norm shift',
  other: 'other',
};

/** At most this many x tick labels; above it every k-th tensor is labeled. */
export const MAX_ETA_LABELS = 40;
const LABEL_CHARS = 36;
const LABEL_FONT = 10;

// A module whose name says it is a normalization: bn1, ln_1, gn, norm, norm1, fc_norm, LayerNorm.
const NORM_MODULE = /norm|^(bn|ln|gn)(_?\d+)?$/i;

/**
 * The kind of a tensor from its name alone, for profiles that carry no role. The name is a
 * PyTorch-style path; its last part is the tensor and the part before it the owning module.
 * `<module>.weight` is a norm scale when the module's name looks like a normalization (see
 * NORM_MODULE), else a conv/linear weight; `<module>.bias` likewise a norm shift or a bias;
 * anything else (cls_token, pos_embed, gamma, relative_position_bias_table) is 'other'.
 * Limitation: a norm whose module name does not say so (torchvision ResNet's `downsample.1`)
 * is taken for a weight; pass `role` to be exact.
 */
export function inferEtaKind(name: string): EtaKind {
  const parts = name.split('.');
  const leaf = parts[parts.length - 1];
  const owner = parts.length > 1 ? parts[parts.length - 2] : '';
  const norm = NORM_MODULE.test(owner);
  if (leaf === 'weight') return norm ? 'norm_scale' : 'weight';
  if (leaf === 'bias') return norm ? 'norm_shift' : 'bias';
  return 'other';
}

/** The kind of a tensor: its declared role when given, else inferred from its name. */
export function etaKind(p: EtaParam): EtaKind {
  if (p.role === undefined) return inferEtaKind(p.name);
  return p.role === 'weight' || p.role === 'bias' || p.role === 'norm_scale' || p.role === 'norm_shift' ? p.role : 'other';
}

/** The indices (into `n` tensors) that get an x tick label: all up to 40, else every k-th. */
export function labeledIndices(n: number, max = MAX_ETA_LABELS): number[] {
  const every = n <= max ? 1 : Math.ceil(n / max);
  const out: number[] = [];
  for (let i = 0; i < n; i += every) out.push(i);
  return out;
}

export function etaChart(options: EtaChartOptions): string {
  const all = options.params.map((p) => ({ ...p, kind: etaKind(p) }));
  const params = options.only === 'weights' ? all.filter((p) => p.kind === 'weight') : all;
  const shown = params.filter((p) => Number.isFinite(p.eta) && p.eta > 0);
  const hidden = params.filter((p) => !(Number.isFinite(p.eta) && p.eta > 0));
  const n = params.length;

  const labels = labeledIndices(n);
  const labelTexts = labels.map((i) => ellipsize(params[i].name, LABEL_CHARS));
  const labelBand = labelTexts.length === 0 ? 0 : Math.max(...labelTexts.map((s) => textWidth(s, LABEL_FONT)));
  const width = options.width ?? 960;
  const plotH = options.plotHeight ?? 300;
  const m = { top: 70, right: 20, left: 72, bottom: 24 + labelBand + 28 + (hidden.length > 0 ? 20 : 0) };
  const height = m.top + plotH + m.bottom;
  const plotW = Math.max(40, width - m.left - m.right);
  const x0 = m.left;
  const x1 = m.left + plotW;
  const y0 = m.top + plotH;
  const y1 = m.top;

  let lo = 1;
  let hi = 1;
  for (const p of shown) {
    lo = Math.min(lo, p.eta);
    hi = Math.max(hi, p.eta);
  }
  const yt = logTicks(lo, hi);
  const sy = scale(yt.domain, y0, y1, true);
  const slot = plotW / Math.max(1, n);
  const cx = (i: number) => x0 + (i + 0.5) * slot;
  const barW = Math.max(1, Math.min(18, slot * 0.7));

  const out: string[] = [svgOpen(width, height, options.title)];
  out.push(text(width / 2, 26, options.title, { 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 'bold' }));

  // Legend: the kinds present, in a row under the title.
  const kinds = (Object.keys(KIND_LABELS) as EtaKind[]).filter((k) => params.some((p) => p.kind === k));
  const legend: string[] = [];
  let lx = x0;
  for (const k of kinds) {
    legend.push(el('rect', { x: lx, y: 41, width: 12, height: 12, fill: ETA_KIND_COLORS[k] }));
    legend.push(text(lx + 17, 51, KIND_LABELS[k], { fill: '#333333' }));
    lx += 17 + textWidth(KIND_LABELS[k], 12) + 20;
  }
  legend.push(el('line', { x1: lx, y1: 47, x2: lx + 24, y2: 47, stroke: '#000000', 'stroke-dasharray': '4 3' }));
  legend.push(text(lx + 29, 51, 'eta = 1 (mean)', { fill: '#333333' }));
  out.push(el('g', { class: 'legend' }, legend.join('')));

  // Gridlines and the y axis.
  const grid: string[] = [];
  for (const v of yt.minor) grid.push(el('line', { x1: x0, y1: sy(v), x2: x1, y2: sy(v), stroke: '#f0f0f0' }));
  for (const v of yt.ticks) grid.push(el('line', { x1: x0, y1: sy(v), x2: x1, y2: sy(v), stroke: '#dddddd' }));
  out.push(el('g', { class: 'grid' }, grid.join('')));
  const axes: string[] = [
    el('line', { x1: x0, y1: y0, x2: x1, y2: y0, stroke: '#333333' }),
    el('line', { x1: x0, y1: y0, x2: x0, y2: y1, stroke: '#333333' }),
  ];
  for (const v of yt.ticks) {
    axes.push(el('line', { x1: x0 - 5, y1: sy(v), x2: x0, y2: sy(v), stroke: '#333333' }));
    axes.push(text(x0 - 8, sy(v) + 4, formatLogTick(v), { 'text-anchor': 'end', class: 'y-tick' }));
  }
  axes.push(text(0, 0, 'eta', { 'text-anchor': 'middle', class: 'y-label', transform: `translate(18 ${fmt((y0 + y1) / 2)}) rotate(-90)` }));
  labels.forEach((i, j) => {
    axes.push(el('line', { x1: cx(i), y1: y0, x2: cx(i), y2: y0 + 4, stroke: '#333333' }));
    axes.push(
      text(0, 0, labelTexts[j], {
        class: 'x-tick', 'text-anchor': 'end', 'font-size': LABEL_FONT, dy: '0.35em',
        transform: `translate(${fmt(cx(i))} ${fmt(y0 + 8)}) rotate(-90)`,
      }),
    );
  });
  const every = labels.length > 1 ? labels[1] - labels[0] : 1;
  const xLabel = `parameter tensor, in model order (${n}${every > 1 ? `, a label every ${every}` : ''})`;
  axes.push(text((x0 + x1) / 2, y0 + 8 + labelBand + 24, xLabel, { 'text-anchor': 'middle', class: 'x-label' }));
  out.push(el('g', { class: 'axes', fill: '#333333' }, axes.join('')));

  // One bar per tensor from eta = 1 to its eta; the name and value as its tooltip.
  const base = sy(1);
  const bars: string[] = [];
  params.forEach((p, i) => {
    if (!(Number.isFinite(p.eta) && p.eta > 0)) return;
    const y = sy(p.eta);
    bars.push(
      el('rect', {
        class: `bar ${p.kind}`, x: cx(i) - barW / 2, y: Math.min(y, base), width: barW,
        height: Math.max(1, Math.abs(y - base)), fill: ETA_KIND_COLORS[p.kind],
      }, el('title', {}, escapeXml(`${p.name}: eta ${formatNumber(p.eta, 4)}`))),
    );
  });
  out.push(el('g', { class: 'bars' }, bars.join('')));
  out.push(el('line', { class: 'eta-one', x1: x0, y1: base, x2: x1, y2: base, stroke: '#000000', 'stroke-width': 1, 'stroke-dasharray': '4 3' }));

  if (n === 0) out.push(text((x0 + x1) / 2, (y0 + y1) / 2, 'no tensors', { 'text-anchor': 'middle', fill: '#999999', 'font-size': 14 }));
  if (hidden.length > 0) {
    const names = hidden.slice(0, 4).map((p) => `${p.name} (${formatNumber(p.eta)})`).join(', ');
    const note = `not on the log axis (eta <= 0 or not finite): ${names}${hidden.length > 4 ? `, +${hidden.length - 4} more` : ''}`;
    out.push(text(x0, height - 10, note, { class: 'note', fill: '#666666', 'font-size': 11 }));
  }
  out.push('</svg>\n');
  return out.join('');
}
