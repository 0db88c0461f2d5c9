// metrics.jsonl of a run folder: one JSON object per line, appended and flushed as training goes
// (a 'step' record every log interval, an 'epoch' record after each evaluation, 'probe' and
// 'summary' records). On resume the file is cut back to the lines the checkpoint had seen, so a
// resumed run's file equals an uninterrupted one's (timings aside).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export type MetricsRecord = Record<string, unknown> & { kind: string };

/** Non-finite numbers are written as the strings "NaN" / "Infinity" (JSON has no such literal). */
function encode(record: MetricsRecord): string {
  return JSON.stringify(record, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

export class MetricsLog {
  private lines = 0;

  /** Opens the log; with `keepLines` (resume) keeps only that many existing lines. */
  constructor(readonly file: string, keepLines = 0) {
    const kept = keepLines > 0 && existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).slice(0, keepLines) : [];
    writeFileSync(file, kept.map((l) => l + '\n').join(''));
    this.lines = kept.length;
  }

  get lineCount(): number {
    return this.lines;
  }

  write(record: MetricsRecord): void {
    appendFileSync(this.file, encode(record) + '\n');
    this.lines++;
  }
}

export function readMetrics(file: string): MetricsRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as MetricsRecord);
}
