// Small helpers shared by the SVG charts (docs/design.md section 2): XML escaping, "nice" axis
// ticks for linear and log10 scales, number formatting for tick labels and values, a default
// palette, and an element builder. The charts are plain SVG strings so the project needs no
// plotting library.

/** Matplotlib's / D3's category10: ten colors that stay distinguishable on white. */
export const PALETTE: readonly string[] = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

/** The i-th palette color, cycling. */
export function paletteColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

// Characters XML 1.0 forbids even when escaped (C0 controls other than tab, newline, return).
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for use in element content and in double- or single-quoted attributes. */
export function escapeXml(text: string): string {
  return text
    .replace(FORBIDDEN, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export type Attrs = Record<string, string | number | undefined>;

/** `<tag a="1" ...>children</tag>` (self-closing without children); undefined attributes are left out. */
export function el(tag: string, attrs: Attrs, children?: string): string {
  let s = `<${tag}`;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === 'number' ? fmt(v) : escapeXml(v)}"`;
  }
  return children === undefined ? `${s}/>` : `${s}>${children}</${tag}>`;
}

/** A `<text>` element; the content is escaped. */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, escapeXml(content));
}

/** A coordinate rounded to 2 decimals, without a trailing ".00" or a "-0". */
export function fmt(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Removes floating-point noise from a tick value (0.30000000000000004 -> 0.3). */
function clean(v: number): number {
  const r = Number(v.toPrecision(12));
  return Object.is(r, -0) ? 0 : r;
}

export interface Ticks {
  /** Labeled tick values, ascending; they span `domain`. */
  ticks: number[];
  /** Unlabeled minor ticks (log scale only: 2..9 x 10^k when few decades are shown). */
  minor: number[];
  /** The axis range: the data range widened to the outermost ticks. */
  domain: [number, number];
  /** Linear: spacing between ticks. Log: decades between ticks. */
  step: number;
}

/**
 * Ticks at 1, 2 or 5 x 10^k spacing (about `count` intervals), the domain widened to whole ticks.
 * A zero-width range is widened around its value; non-finite bounds give the domain [0, 1].
 */
export function linearTicks(min: number, max: number, count = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return linearTicks(0, 1, count);
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = clean((norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag);
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(clean(i * step));
  return { ticks, minor: [], domain: [ticks[0], ticks[ticks.length - 1]], step };
}

/** 10^k as the nearest double to the literal `1ek` (10 ** -3 can be off by one ulp). */
export function pow10(k: number): number {
  return Number(`1e${k}`);
}

/**
 * Log10 ticks: labeled ticks are exact powers of 10 (every `step`-th decade so that at most about
 * `maxTicks` show), the domain is widened to whole decades. Only positive finite bounds make sense;
 * anything else gives the domain [1, 10]. A range inside one decade still spans a full decade.
 */
export function logTicks(min: number, max: number, maxTicks = 8): Ticks {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return logTicks(1, 10, maxTicks);
  if (min > max) [min, max] = [max, min];
  let lo = Math.floor(Math.log10(min) + 1e-9);
  let hi = Math.ceil(Math.log10(max) - 1e-9);
  if (lo === hi) {
    // Exactly a power of 10: center it in two decades; otherwise the decade that holds it.
    if (min === max && pow10(lo) === min) { lo -= 1; hi += 1; } else hi = lo + 1;
  }
  const step = Math.max(1, Math.ceil((hi - lo) / Math.max(1, maxTicks - 1)));
  lo = Math.floor(lo / step) * step;
  hi = lo + Math.ceil((hi - lo) / step) * step;
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k += step) ticks.push(pow10(k));
  const minor: number[] = [];
  if (step === 1 && hi - lo <= 4) {
    for (let k = lo; k < hi; k++) for (let j = 2; j <= 9; j++) minor.push(clean(j * pow10(k)));
  }
  return { ticks, minor, domain: [pow10(lo), pow10(hi)], step };
}

/** A log tick label: 0.001 .. 10000 written out, other powers as 1e-5, 1e6. */
export function formatLogTick(v: number): string {
  const k = Math.round(Math.log10(v));
  if (pow10(k) !== v) return formatNumber(v);
  return k >= -3 && k <= 4 ? String(v) : `1e${k}`;
}

/**
 * Labels of linear ticks with as many decimals as the tick spacing needs. When the largest tick
 * reaches 10000, the whole axis uses one unit, the largest of k / M / G not above it
 * (0, 5000, .., 20000 -> "0", "5k", .., "20k"; 500000, 1000000 -> "0.5M", "1.0M").
 */
export function formatTicks(values: readonly number[], step: number): string[] {
  const top = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let unit = 1;
  let suffix = '';
  if (top >= 1e4) {
    for (const [u, sfx] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
      if (top >= u) {
        unit = u;
        suffix = sfx;
        break;
      }
    }
  }
  const decimals = decimalsFor(step / unit);
  return values.map((v) => (v === 0 ? '0' : `${trimFixed(v / unit, decimals)}${suffix}`));
}

function decimalsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  for (let d = 0; d < 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 12;
}

function trimFixed(v: number, decimals: number): string {
  const s = v.toFixed(decimals);
  return s === '-0' || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** A value for people: `digits` significant digits, exponent form outside 1e-3 .. 1e6. */
export function formatNumber(v: number, digits = 3): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs < 1e-3 || abs >= 1e6) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    return `${m.replace(/\.?0+$/, '')}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(digits)));
}

/** Shortens text to at most `max` characters, keeping both ends ("blocks.11…q.weight"). */
export function ellipsize(s: string, max: number): string {
  if (s.length <= max) return s;
  const tail = Math.ceil((max - 1) * 0.6);
  return `${s.slice(0, max - 1 - tail)}…${s.slice(s.length - tail)}`;
}

/** A rough width of `s` in pixels for a sans-serif font of `fontSize` (layout only). */
export function textWidth(s: string, fontSize: number): number {
  return s.length * fontSize * 0.6;
}

/** Maps a value to a pixel coordinate, linear or log10, from `domain` onto `[from, to]`. */
export function scale(domain: [number, number], from: number, to: number, log: boolean): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const d0 = f(domain[0]);
  const d1 = f(domain[1]);
  const span = d1 - d0 || 1;
  return (v: number) => from + ((f(v) - d0) / span) * (to - from);
}

/** Opening tag of a chart: white background, sans-serif text, an accessible title. */
export function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${fmt(width)}" height="${fmt(height)}" ` +
    `viewBox="0 0 ${fmt(width)} ${fmt(height)}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">` +
    el('title', {}, escapeXml(title)) +
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' })
  );
}
