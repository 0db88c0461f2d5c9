// Progress reporting of long work: a one-line bar redrawn in place on a terminal (images/s,
// loss, lr, ETA), plain lines every log interval otherwise, and nothing but JSON records with
// --json (the caller prints those).
export type ProgressMode = 'bar' | 'lines' | 'json';

export function progressMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'bar' : 'lines';
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  imagesPerSecond: number;
  loss: number | null;
  lr: number | null;
  etaSeconds: number;
}

export function formatProgress(p: ProgressState, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const parts = [
    `${p.label} [${bar}] ${String(Math.floor(frac * 100)).padStart(3)}%`,
    `${p.done}/${p.total}`,
    p.loss !== null ? `loss ${p.loss.toFixed(4)}` : '',
    p.lr !== null ? `lr ${p.lr.toPrecision(3)}` : '',
    `${Math.round(p.imagesPerSecond)} img/s`,
    `ETA ${formatDuration(p.etaSeconds)}`,
  ];
  return parts.filter((s) => s.length > 0).join('  ');
}

export class Progress {
  private lastDraw = 0;

  constructor(readonly mode: ProgressMode, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Redraws the bar (at most 10 times a second); in 'lines' mode prints when `logLine` is set. */
  update(p: ProgressState, logLine: boolean): void {
    if (this.mode === 'bar') {
      const now = Date.now();
      if (now - this.lastDraw < 100 && p.done < p.total) return;
      this.lastDraw = now;
      this.stream.write(`\r${formatProgress(p)}\x1b[K`);
    } else if (this.mode === 'lines' && logLine) {
      this.stream.write(formatProgress(p) + '\n');
    }
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.mode === 'bar') this.stream.write('\n');
  }

  /** A message line for people (suppressed with --json). */
  message(text: string): void {
    if (this.mode === 'json') return;
    if (this.mode === 'bar') this.stream.write('\r\x1b[K');
    this.stream.write(text + '\n');
  }
}
