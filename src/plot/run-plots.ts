// Loss and accuracy charts of a training run, or of several runs overlaid, read from the records
// of a run's metrics.jsonl (docs/design.md section 6, "The training run"):
//   {"kind":"step","step":N,"epoch":E,"loss":L,"lr":LR}
//   {"kind":"epoch","epoch":E,"step":N,"train_loss":..,"test_loss":..,"test_top1":..,"test_top5":..}
// Losses are drawn against the step, accuracies against the epoch, both as recorded (accuracy is
// not rescaled to percent). A loss that is null, "NaN" or "Infinity" (JSON.stringify writes NaN as
// null) breaks the line, so a run that diverged shows as a line that ends.
import { FileFormatError } from '../errors';
import { lineChart, type LineSeries } from './line-chart';
import { paletteColor } from './svg';

export type MetricsRecord = Readonly<Record<string, unknown>>;

export interface RunPlots {
  loss: string;
  accuracy: string;
}

export interface RunPlotOptions {
  /** Prefix of the chart titles, e.g. the run name. */
  title?: string;
  /** Loss on a log10 axis (default true: a loss spike before divergence does not flatten the rest). */
  logLoss?: boolean;
  width?: number;
  height?: number;
}

/**
 * A record's numeric field: a number as is; null and the strings "NaN", "Infinity", "-Infinity"
 * as non-finite numbers (they break a line); anything else, or a missing key, undefined (no point).
 */
export function metricValue(r: MetricsRecord, key: string): number | undefined {
  const v = r[key];
  if (typeof v === 'number') return v;
  if (v === null) return NaN;
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  return undefined;
}

/** [x, y] for each record of `kind` that has both fields (y may be non-finite); x must be finite. */
export function metricPoints(
  records: readonly MetricsRecord[], kind: string, xKey: string, yKey: string,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const r of records) {
    if (r.kind !== kind) continue;
    const x = metricValue(r, xKey);
    const y = metricValue(r, yKey);
    if (x === undefined || !Number.isFinite(x) || y === undefined) continue;
    out.push([x, y]);
  }
  return out;
}

/** The training loss of a run: per logged step, or per epoch when no step records carry one. */
function trainLoss(records: readonly MetricsRecord[]): Array<[number, number]> {
  const steps = metricPoints(records, 'step', 'step', 'loss');
  return steps.length > 0 ? steps : metricPoints(records, 'epoch', 'step', 'train_loss');
}

function titled(prefix: string | undefined, what: string): string {
  return prefix ? `${prefix}: ${what}` : what;
}

/** Loss (train per step, train per epoch, test dashed) and test accuracy (top-1, top-5) of one run. */
export function metricsPlots(records: readonly MetricsRecord[], options: RunPlotOptions = {}): RunPlots {
  const size = { width: options.width, height: options.height };
  const lossSeries: LineSeries[] = [];
  const step = metricPoints(records, 'step', 'step', 'loss');
  const epochTrain = metricPoints(records, 'epoch', 'step', 'train_loss');
  if (step.length > 0) lossSeries.push({ name: 'train loss', points: step, color: paletteColor(0) });
  if (epochTrain.length > 0) {
    lossSeries.push({ name: 'train loss (epoch mean)', points: epochTrain, color: paletteColor(2) });
  }
  lossSeries.push({ name: 'test loss', points: metricPoints(records, 'epoch', 'step', 'test_loss'), dashed: true, color: paletteColor(1) });
  const loss = lineChart({
    title: titled(options.title, 'loss'), xLabel: 'step', yLabel: 'loss', series: lossSeries,
    logY: options.logLoss ?? true, ...size,
  });
  const accuracy = lineChart({
    title: titled(options.title, 'test accuracy'), xLabel: 'epoch', yLabel: 'test accuracy', ...size,
    series: [
      { name: 'test top-1', points: metricPoints(records, 'epoch', 'epoch', 'test_top1'), color: paletteColor(0) },
      { name: 'test top-5', points: metricPoints(records, 'epoch', 'epoch', 'test_top5'), color: paletteColor(1), dashed: true },
    ],
  });
  return { loss, accuracy };
}

/**
 * Several runs overlaid, one color per run (the palette cycles after 10 runs): train loss solid
 * and test loss dashed against the step; test top-1 against the epoch.
 */
export function compareRunsPlots(
  runs: ReadonlyArray<{ name: string; records: readonly MetricsRecord[] }>, options: RunPlotOptions = {},
): RunPlots {
  const size = { width: options.width, height: options.height };
  const lossSeries: LineSeries[] = [];
  const accSeries: LineSeries[] = [];
  runs.forEach((run, i) => {
    const color = paletteColor(i);
    lossSeries.push({ name: `${run.name} train`, points: trainLoss(run.records), color });
    lossSeries.push({ name: `${run.name} test`, points: metricPoints(run.records, 'epoch', 'step', 'test_loss'), color, dashed: true });
    accSeries.push({ name: run.name, points: metricPoints(run.records, 'epoch', 'epoch', 'test_top1'), color });
  });
  return {
    loss: lineChart({
      title: titled(options.title, 'loss (train solid, test dashed)'), xLabel: 'step', yLabel: 'loss',
      series: lossSeries, logY: options.logLoss ?? true, ...size,
    }),
    accuracy: lineChart({
      title: titled(options.title, 'test top-1'), xLabel: 'epoch', yLabel: 'test top-1', series: accSeries, ...size,
    }),
  };
}

/**
 * The records of a metrics.jsonl text. Blank lines are skipped; bare NaN / Infinity (as Python's
 * json writes them) are accepted. A last line without its newline that does not parse is taken
 * for a write in progress and skipped; any other bad line is an error naming `file` and the line.
 */
export function parseMetricsJsonl(textIn: string, file = 'metrics.jsonl'): MetricsRecord[] {
  const lines = textIn.split('\n');
  const out: MetricsRecord[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      try {
        v = JSON.parse(line.replace(/([:,[]\s*)(NaN|-?Infinity)(?=\s*[,}\]])/g, '$1"$2"'));
      } catch (e) {
        if (i === lines.length - 1) return;
        throw new FileFormatError(file, `line ${i + 1} is not valid JSON: ${(e as Error).message}`);
      }
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new FileFormatError(file, `line ${i + 1} is not a JSON object`);
    }
    out.push(v as MetricsRecord);
  });
  return out;
}
