// Writes one example chart of each kind (run loss and accuracy, a comparison of runs, a ResNet-50
// shaped eta profile, all tensors and weights only) to $PLOT_EXAMPLES_DIR, or to a temporary
// directory (removed afterwards), and checks each is well-formed: set the variable to look at the
// charts by eye (e.g. `rsvg-convert eta.svg -o eta.png`).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { compareRunsPlots, etaChart, lineChart, metricsPlots, type EtaParam, type MetricsRecord } from '../../src/plot';
import { parseXml } from './xml';

function run(steps: number, rate: number, divergeAt?: number): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (let s = 50; s <= steps; s += 50) {
    const noise = 0.15 * Math.sin(s * 0.37) * Math.cos(s * 0.011);
    const loss = divergeAt !== undefined && s >= divergeAt ? (s >= divergeAt + 300 ? null : 3 * 1.02 ** (s - divergeAt)) : 6.9 * Math.exp(-s * rate) + 1.1 + noise;
    out.push({ kind: 'step', step: s, epoch: Math.floor(s / 1000), loss, lr: 0.1 });
    if (s % 1000 === 0) {
      const e = s / 1000;
      const tl = typeof loss === 'number' ? loss - noise : null;
      out.push({ kind: 'epoch', epoch: e, step: s, train_loss: tl, test_loss: tl === null ? null : tl + 0.25, test_top1: tl === null ? null : 100 * (1 - tl / 8), test_top5: tl === null ? null : 100 * (1 - tl / 16) });
    }
  }
  return out;
}

/** ResNet-50's 161 parameter tensors in model order, with roles as a probe would give them. */
function resnet50(): EtaParam[] {
  const out: EtaParam[] = [];
  let depth = 0;
  const add = (name: string, role: string, base: number) => out.push({ name, role, eta: base * (0.3 + 0.02 * depth++) * (1 + 0.3 * Math.sin(depth)) });
  const convBn = (prefix: string, conv: string, bn: string) => {
    add(`${prefix}${conv}.weight`, 'weight', 0.25);
    add(`${prefix}${bn}.weight`, 'norm_scale', 0.6);
    add(`${prefix}${bn}.bias`, 'norm_shift', 2.5);
  };
  convBn('', 'conv1', 'bn1');
  [3, 4, 6, 3].forEach((blocks, l) => {
    for (let b = 0; b < blocks; b++) {
      const p = `layer${l + 1}.${b}.`;
      for (const k of [1, 2, 3]) convBn(p, `conv${k}`, `bn${k}`);
      if (b === 0) convBn(p, 'downsample.0', 'downsample.1');
    }
  });
  add('fc.weight', 'weight', 1.5);
  add('fc.bias', 'bias', 6);
  return out;
}

test('example charts of each kind are written and well-formed', () => {
  const keep = process.env.PLOT_EXAMPLES_DIR;
  const dir = keep ?? mkdtempSync(path.join(os.tmpdir(), 'layerwise-plots-'));
  mkdirSync(dir, { recursive: true });
  const one = metricsPlots(run(20000, 1 / 2500), { title: 'resnet18 on cifar10' });
  const cmp = compareRunsPlots([
    { name: 'single lr 0.1', records: run(20000, 1 / 4000) },
    { name: 'layerwise', records: run(20000, 1 / 2500) },
    { name: 'single lr 0.8', records: run(9000, 1 / 3000, 6000) },
  ]);
  const params = resnet50();
  expect(params).toHaveLength(161);
  const files: Record<string, string> = {
    'loss.svg': one.loss,
    'accuracy.svg': one.accuracy,
    'compare-loss.svg': cmp.loss,
    'compare-accuracy.svg': cmp.accuracy,
    'eta.svg': etaChart({ title: 'ResNet-50: eta per tensor', params }),
    'eta-weights.svg': etaChart({ title: 'ResNet-50: eta per conv/linear weight', params, only: 'weights' }),
    'line-logxy.svg': lineChart({
      title: 'log-log', xLabel: 'batch size', yLabel: 'time per image (s)', logX: true, logY: true,
      series: [{ name: 'cpu', points: [[1, 0.2], [8, 0.05], [64, 0.02]] }, { name: 'gpu', points: [[1, 0.01], [64, 2e-4], [512, 5e-5]], dashed: true }],
    }),
  };
  for (const [name, svg] of Object.entries(files)) {
    expect(() => parseXml(svg), name).not.toThrow();
    writeFileSync(path.join(dir, name), svg);
  }
  if (keep === undefined) rmSync(dir, { recursive: true, force: true });
});
