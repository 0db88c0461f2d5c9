// The command line as a user meets it: help with examples for every command, option errors that
// name the option and what it accepts, and a short run of train, probe, eval and plot.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli';

describe('layerwise CLI', () => {
  test.each(['train', 'probe', 'eval', 'plot', 'bench', 'models', 'export'])('%s --help shows options and examples', (cmd) => {
    const r = runCli([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain(`layerwise ${cmd}`);
  });

  test('unknown model, negative lr, bad lr mode and unknown data spec are errors naming the option', () => {
    const model = runCli(['train', '--model', 'resnet1000']);
    expect(model.status).not.toBe(0);
    expect(model.stderr).toMatch(/--model.*resnet1000.*mlp/s);
    const lr = runCli(['train', '--lr', '-0.1']);
    expect(lr.status).not.toBe(0);
    expect(lr.stderr).toMatch(/--lr.*positive number/s);
    const mode = runCli(['train', '--lr-mode', 'fancy']);
    expect(mode.status).not.toBe(0);
    expect(mode.stderr).toMatch(/--lr-mode.*fancy.*layerwise, single/s);
    const data = runCli(['train', '--data', 'imagenet']);
    expect(data.status).not.toBe(0);
    expect(data.stderr).toMatch(/data spec 'imagenet' \(--data\).*accepted forms/s);
  });

  test('a missing data path and a missing --eta-from file name the path', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-cli-'));
    const r = runCli(['train', '--data', 'mnist:/nonexistent/mnist', '--out-dir', out]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/nonexistent/mnist');
    const e = runCli(['train', '--eta-from', '/nonexistent/eta.json', '--out-dir', out]);
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(/--eta-from.*\/nonexistent\/eta\.json.*existing file/s);
  });

  test('a JSON config file sets options; the command line wins; unknown keys are errors', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-cfg-'));
    const cfg = path.join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ data: 'synthetic:64:1x8x8:3', model: 'mlp', 'hidden': 8, 'lr-mode': 'single', maxSteps: 2, lr: 0.5, batchSize: 16 }));
    const r = runCli(['train', '--config', cfg, '--lr', '0.01', '--out-dir', dir, '--name', 'cfg', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const written = JSON.parse(readFileSync(path.join(dir, 'cfg', 'config.json'), 'utf8'));
    expect(written).toMatchObject({ model: 'mlp', hidden: 8, lrMode: 'single', maxSteps: 2, lr: 0.01, batchSize: 16 });
    writeFileSync(cfg, JSON.stringify({ lerning_rate: 1 }));
    const unknown = runCli(['train', '--config', cfg]);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown setting 'lerning_rate'/);
  });

  test('train --json prints only JSON lines; the run folder has config, metrics, eta, plots and checkpoint; eval and plot work on it', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-run-'));
    const r = runCli(['train', '--data', 'synthetic:128:1x8x8:3', '--model', 'cnn', '--hidden', '8', '--epochs', '2', '--batch-size', '32',
      '--probe-steps', '2', '--out-dir', out, '--name', 'r', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.every((l) => JSON.parse(l).kind)).toBe(true);
    const summary = lines.map((l) => JSON.parse(l)).find((x) => x.kind === 'summary');
    expect(summary).toBeDefined();
    const dir = path.join(out, 'r');
    for (const f of ['config.json', 'metrics.jsonl', 'eta.json', 'eta.svg', 'eta-weights.svg', 'loss.svg', 'accuracy.svg', 'checkpoint.safetensors', 'state.json']) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    }
    const ev = runCli(['eval', dir, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    const result = JSON.parse(ev.stdout);
    expect(result.kind).toBe('eval');
    // eval of the checkpoint reproduces the run's final evaluation: the 32 test samples of
    // synthetic:128 (N/4), the same top-1 (a multiple of 100/32) and top-5 (3 classes: 100%), the loss.
    expect(result.samples).toBe(32);
    expect(result.top1).toBe(summary.test_top1);
    expect(Math.round((result.top1 * 32) / 100) * (100 / 32)).toBeCloseTo(result.top1, 9);
    expect(result.top5).toBe(100);
    expect(result.loss).toBeCloseTo(summary.test_loss, 6);
    const pl = runCli(['plot', '--compare', dir, dir, '--out', out]);
    expect(pl.status, pl.stderr).toBe(0);
    expect(existsSync(path.join(out, 'compare-loss.svg'))).toBe(true);
  });

  test('without --name a second run of the same settings goes to the next free folder; an existing --name is an error', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-names-'));
    const args = ['train', '--data', 'synthetic:64:1x4x4:3', '--model', 'mlp', '--hidden', '4', '--max-steps', '1', '--probe-steps', '1', '--out-dir', out, '--json'];
    expect(runCli(args).status).toBe(0);
    expect(runCli(args).status).toBe(0);
    expect(existsSync(path.join(out, 'mlp-layerwise-sgd-seed0', 'checkpoint.safetensors'))).toBe(true);
    expect(existsSync(path.join(out, 'mlp-layerwise-sgd-seed0-2', 'checkpoint.safetensors'))).toBe(true);
    const again = runCli([...args, '--name', 'mlp-layerwise-sgd-seed0']);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('already holds a run: pass --resume');
  });

  test('--resume with other options is an error naming them', () => {
    const r = runCli(['train', '--resume', '/nonexistent/run', '--epochs', '9', '--lr', '0.3']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('drop --epochs, --lr');
  });

  test('probe writes params in model order with name, numel, G, eta and prints the table', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lw-probe-'));
    const file = path.join(out, 'eta.json');
    const r = runCli(['probe', '--model', 'mlp', '--hidden', '16', '--data', 'synthetic:64:1x4x4:3', '--batch-size', '16', '--steps', '3', '--seed', '1', '--out', file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('G (mean |grad|)');
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    expect(profile.params.map((p: { name: string }) => p.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(profile).toMatchObject({ model: 'mlp', steps: 3, batchSize: 16, seed: 1 });
    for (const p of profile.params) expect(Object.keys(p)).toEqual(expect.arrayContaining(['name', 'numel', 'G', 'eta']));
  });
});
