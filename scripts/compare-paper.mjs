#!/usr/bin/env node
// The paper's comparisons at CPU scale (README: "Paper comparisons"). Needs `npm run build`.
//  (a) Figure 7's analogue: the 2-layer MLP 784-w-10 on Fashion-MNIST, w in {256, 1024, 4096},
//      20 epochs of plain SGD at learning rates 10^-3 .. 10^0.5 in half-decade steps, with the lr
//      modes single, layerwise, sgd-ng and mup: the final training loss of every cell.
//  (b) the default CNN (npm run train) with single vs layer-wise SGD at the best single learning
//      rate (from a sweep) and at 4x it: final test top-1 over 3 seeds.
// Writes docs/paper-comparisons.md (tables), docs/figures/*.svg and docs/paper-comparisons.json.
// Finished runs are cached (runs/paper/<name>/result.json), so a rerun only trains what is missing;
// --cached-only writes the report from finished runs alone (missing cells read 'not run').
// Usage: node scripts/compare-paper.mjs [--part a|b|all] [--epochs N] [--widths 256,1024]
//        [--seeds 0,1,2] [--runs-dir runs/paper] [--out docs] [--cached-only]
import { mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const { runTraining } = require(path.join(root, 'lib/train/run.js'));
const { resolveConfig } = require(path.join(root, 'lib/train/config.js'));
const { readRunMetrics } = require(path.join(root, 'lib/train/plots.js'));
const { lineChart } = require(path.join(root, 'lib/plot/line-chart.js'));

function args() {
  const a = { cachedOnly: false, part: 'all', epochs: 20, widths: [256, 1024, 4096], seeds: [0, 1, 2], runsDir: path.join(root, 'runs', 'paper'), out: path.join(root, 'docs'), cnnEpochs: 5 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--part') a.part = v, i++;
    else if (argv[i] === '--epochs') a.epochs = Number(v), i++;
    else if (argv[i] === '--cnn-epochs') a.cnnEpochs = Number(v), i++;
    else if (argv[i] === '--widths') a.widths = v.split(',').map(Number), i++;
    else if (argv[i] === '--seeds') a.seeds = v.split(',').map(Number), i++;
    else if (argv[i] === '--runs-dir') a.runsDir = path.resolve(v), i++;
    else if (argv[i] === '--out') a.out = path.resolve(v), i++;
    else if (argv[i] === '--cached-only') a.cachedOnly = true;
    else throw new Error(`compare-paper: unknown option ${argv[i]}`);
  }
  return a;
}

/** Trains one configuration (reusing a finished run of the same name); returns its records or 'diverged'. */
function train(name, settings, runsDir) {
  const dir = path.join(runsDir, name);
  const done = path.join(dir, 'result.json');
  if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8'));
  if (CACHED_ONLY) return { status: 'not run', train_loss: NaN, test_top1: NaN };
  rmSync(dir, { recursive: true, force: true });
  const t0 = Date.now();
  let result;
  try {
    runTraining(resolveConfig({}, { ...settings, name, outDir: runsDir }), dir, null, { quiet: true });
    const records = readRunMetrics(dir);
    const epochs = records.filter((r) => r.kind === 'epoch');
    const last = epochs[epochs.length - 1];
    result = { status: 'ok', train_loss: last.train_loss, test_top1: last.test_top1, test_loss: last.test_loss };
  } catch (e) {
    if (e.code !== 'ERR_NON_FINITE_LOSS') throw e;
    result = { status: 'diverged', train_loss: NaN, test_top1: NaN, message: e.message };
  }
  result.seconds = (Date.now() - t0) / 1000;
  writeFileSync(done, JSON.stringify(result));
  process.stderr.write(`${name}: ${result.status} train loss ${result.train_loss} top-1 ${result.test_top1} (${result.seconds.toFixed(0)} s)\n`);
  return result;
}

const MLP_MODES = ['single', 'layerwise', 'sgd-ng', 'mup'];
const LRS = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5].map((e) => 10 ** e);

function partA(o) {
  const cells = [];
  for (const width of o.widths) {
    for (const mode of MLP_MODES) {
      // The probe depends on the width and seed only: the first layer-wise run probes, the others reuse its eta.json.
      let etaFrom = null;
      for (const lr of LRS) {
        const settings = {
          data: 'fashion-mnist', model: 'mlp', hidden: width, epochs: o.epochs, lr, lrMode: mode, optimizer: 'sgd', momentum: 0,
          weightDecay: 0, schedule: 'constant', warmupEpochs: 0, init: mode === 'mup' ? 'pytorch' : 'paper', seed: 0, logInterval: 100000,
          ...(etaFrom ? { etaFrom } : {}),
        };
        const name = `mlp${width}-${mode}-lr${lr.toExponential(1)}`;
        cells.push({ width, mode, lr, ...train(name, settings, o.runsDir) });
        if (mode === 'layerwise' && etaFrom === null) etaFrom = path.join(o.runsDir, name, 'eta.json');
      }
    }
  }
  return cells;
}

function partB(o) {
  const base = { data: 'fashion-mnist', model: 'cnn', optimizer: 'sgd', epochs: o.cnnEpochs };
  const sweep = [0.025, 0.05, 0.1, 0.2, 0.4].map((lr) => ({ lr, ...train(`cnn-sweep-single-lr${lr}`, { ...base, lr, lrMode: 'single', seed: 0 }, o.runsDir) }));
  const best = sweep.filter((s) => s.status === 'ok').sort((x, y) => y.test_top1 - x.test_top1)[0].lr;
  const rows = [];
  for (const factor of [1, 4]) {
    for (const mode of ['single', 'layerwise']) {
      const lr = best * factor;
      const runs = o.seeds.map((seed) => train(`cnn-${mode}-lr${lr}-seed${seed}`, { ...base, lr, lrMode: mode, seed }, o.runsDir));
      rows.push({ mode, lr, factor, runs });
    }
  }
  return { sweep, best, rows };
}

const fmt = (v, d = 4, status = 'diverged') => (Number.isFinite(v) ? v.toFixed(d) : status);
function meanStd(values) {
  const ok = values.filter(Number.isFinite);
  if (ok.length === 0) return 'diverged';
  const m = ok.reduce((a, b) => a + b, 0) / ok.length;
  const s = Math.sqrt(ok.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(ok.length - 1, 1));
  return `${m.toFixed(2)} ± ${s.toFixed(2)}${ok.length < values.length ? ` (${values.length - ok.length} diverged)` : ''}`;
}

function reportA(cells, o, figures) {
  const lines = [`### (a) MLP 784-w-10, final training loss after ${o.epochs} epochs of SGD`, ''];
  for (const width of o.widths) {
    lines.push(`**w = ${width}**`, '', `| lr | ${MLP_MODES.join(' | ')} |`, `|---|${MLP_MODES.map(() => '---').join('|')}|`);
    for (const lr of LRS) {
      const cell = (m) => cells.find((c) => c.width === width && c.mode === m && c.lr === lr);
      lines.push(`| ${lr.toPrecision(3)} | ${MLP_MODES.map((m) => fmt(cell(m).train_loss, 4, cell(m).status)).join(' | ')} |`);
    }
    lines.push('');
    const svg = lineChart({
      title: `MLP 784-${width}-10: final train loss vs lr (${o.epochs} epochs)`, xLabel: 'learning rate', yLabel: 'train loss', logX: true, logY: true,
      series: MLP_MODES.map((m) => ({ name: m, points: LRS.map((lr) => [lr, cells.find((c) => c.width === width && c.mode === m && c.lr === lr).train_loss]) })),
    });
    const file = `figure7-mlp${width}.svg`;
    writeFileSync(path.join(figures, file), svg);
    lines.push(`![MLP ${width}](figures/${file})`, '');
  }
  // The paper's Figure 7 view: one panel per lr mode, one line per width (does the best lr move?).
  lines.push('**By lr mode, one line per width** (the best lr stays put when the mode transfers across widths):', '');
  for (const mode of MLP_MODES) {
    const svg = lineChart({
      title: `${mode}: final train loss vs lr, MLP 784-w-10 (${o.epochs} epochs)`, xLabel: 'learning rate', yLabel: 'train loss', logX: true, logY: true,
      series: o.widths.map((w) => ({ name: `w = ${w}`, points: LRS.map((lr) => [lr, cells.find((c) => c.width === w && c.mode === mode && c.lr === lr).train_loss]) })),
    });
    const file = `figure7-${mode}.svg`;
    writeFileSync(path.join(figures, file), svg);
    const best = o.widths.map((w) => {
      const row = cells.filter((c) => c.width === w && c.mode === mode && Number.isFinite(c.train_loss)).sort((x, y) => x.train_loss - y.train_loss)[0];
      return `w=${w}: ${row ? row.lr.toPrecision(2) : '-'}`;
    });
    lines.push(`![${mode}](figures/${file})`, '', `Best lr (lowest final train loss) for ${mode}: ${best.join(', ')}.`, '');
  }
  return lines;
}

function reportB(b) {
  const lines = [`### (b) Default CNN, single vs layer-wise SGD (test top-1 %, mean ± std over seeds)`, '',
    `Sweep of the single learning rate (seed 0): ${b.sweep.map((s) => `lr ${s.lr}: ${fmt(s.test_top1, 2)}%`).join(', ')}; best ${b.best}.`, '',
    '| lr | single | layer-wise |', '|---|---|---|'];
  for (const factor of [1, 4]) {
    const row = (mode) => b.rows.find((r) => r.mode === mode && r.factor === factor);
    lines.push(`| ${factor === 1 ? 'best' : '4 x best'} (${row('single').lr}) | ${meanStd(row('single').runs.map((r) => r.test_top1))} | ${meanStd(row('layerwise').runs.map((r) => r.test_top1))} |`);
  }
  return lines;
}

const o = args();
const CACHED_ONLY = o.cachedOnly;
mkdirSync(o.runsDir, { recursive: true });
const figures = path.join(o.out, 'figures');
mkdirSync(figures, { recursive: true });
const results = {};
const report = ['# Paper comparisons at CPU scale', '', 'Generated by `node scripts/compare-paper.mjs`; see README "Paper comparisons" for the reading.', ''];
if (o.part === 'a' || o.part === 'all') {
  results.a = partA(o);
  report.push(...reportA(results.a, o, figures));
}
if (o.part === 'b' || o.part === 'all') {
  results.b = partB(o);
  report.push(...reportB(results.b));
}
writeFileSync(path.join(o.out, `paper-comparisons${o.part === 'all' ? '' : '-' + o.part}.md`), report.join('\n') + '\n');
writeFileSync(path.join(o.out, `paper-comparisons${o.part === 'all' ? '' : '-' + o.part}.json`), JSON.stringify({ options: o, results }, null, 2));
process.stderr.write(`wrote ${path.join(o.out, 'paper-comparisons*.md')}\n`);
