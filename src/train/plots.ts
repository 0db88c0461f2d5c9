// The SVG plots of a run folder: loss.svg and accuracy.svg from metrics.jsonl, and the eta
// charts in the style of the paper's Figures 4 and 5 from eta.json (eta.svg: every tensor;
// eta-weights.svg: conv/linear weights only). Rewritten after each epoch and at the end.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadProfile } from '../layerwise/profile';
import { etaChart } from '../plot/eta-chart';
import { compareRunsPlots, metricsPlots, parseMetricsJsonl } from '../plot/run-plots';

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function readRunMetrics(dir: string) {
  const file = path.join(dir, 'metrics.jsonl');
  return parseMetricsJsonl(readFileSync(file, 'utf8'), file);
}

/** Writes the plots of `dir`; returns the files written. */
export function writeRunPlots(dir: string): string[] {
  const written: string[] = [];
  const name = path.basename(path.resolve(dir));
  if (existsSync(path.join(dir, 'metrics.jsonl'))) {
    const plots = metricsPlots(readRunMetrics(dir), { title: name });
    writeAtomic(path.join(dir, 'loss.svg'), plots.loss);
    writeAtomic(path.join(dir, 'accuracy.svg'), plots.accuracy);
    written.push('loss.svg', 'accuracy.svg');
  }
  if (existsSync(path.join(dir, 'eta.json'))) {
    const profile = loadProfile(path.join(dir, 'eta.json'));
    const title = `eta per parameter tensor: ${profile.model} (T=${profile.steps}, ${profile.data})`;
    writeAtomic(path.join(dir, 'eta.svg'), etaChart({ title, params: profile.params }));
    writeAtomic(path.join(dir, 'eta-weights.svg'), etaChart({ title: `${title}, conv/linear weights`, params: profile.params, only: 'weights' }));
    written.push('eta.svg', 'eta-weights.svg');
  }
  return written;
}

/** Overlays several runs (`layerwise plot --compare`) into outDir/compare-loss.svg and compare-accuracy.svg. */
export function writeComparePlots(dirs: readonly string[], outDir: string): string[] {
  const runs = dirs.map((d) => ({ name: path.basename(path.resolve(d)), records: readRunMetrics(d) }));
  const plots = compareRunsPlots(runs);
  const files = [path.join(outDir, 'compare-loss.svg'), path.join(outDir, 'compare-accuracy.svg')];
  writeAtomic(files[0], plots.loss);
  writeAtomic(files[1], plots.accuracy);
  return files;
}
