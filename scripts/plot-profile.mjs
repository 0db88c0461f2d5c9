#!/usr/bin/env node
// Writes the eta charts of a saved profile (eta.json-style) next to it, as a run folder does:
// <base>.svg (every tensor) and <base>-weights.svg (conv/linear weights only, like the paper's
// Figures 4/5/11/12). Usage: node scripts/plot-profile.mjs docs/profiles/<model>.json (after npm run build)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const { etaChart } = require(path.join(root, 'lib', 'plot', 'eta-chart.js'));
const { loadProfile } = require(path.join(root, 'lib', 'layerwise', 'profile.js'));

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/plot-profile.mjs PROFILE.json');
  process.exit(2);
}
const profile = loadProfile(file);
const base = file.replace(/\.json$/, '');
const title = `eta: ${profile.model}, T=${profile.steps} x ${profile.batchSize}, ${profile.data}`;
writeFileSync(`${base}.svg`, etaChart({ title, params: profile.params }));
writeFileSync(`${base}-weights.svg`, etaChart({ title: `${title}, conv/linear weights`, params: profile.params, only: 'weights' }));
console.log(`wrote ${base}.svg and ${base}-weights.svg`);
