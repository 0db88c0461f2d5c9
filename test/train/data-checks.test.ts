// The data of a run is checked when it is loaded, before the probe and before any training step:
// an empty training split (which made the probe loop forever) or an empty test split (which
// reported top-1 NaN% and exit 0) is an error naming the file, and train and test samples of
// different shapes (found only at the first evaluation, after training) an error naming both
// files and both shapes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../src/errors';
import { DEFAULT_CONFIG } from '../../src/train/config';
import { buildData } from '../../src/train/setup';
import { pixelBytes, tempDir, writeIdxSplit } from '../data/formats';
import { CLI, requireBuiltCli } from '../helpers/cli';

/** An MNIST-format folder with `train` / `test` samples of the given sizes. */
function idxDir(train: number, test: number, testSide = 6): { dir: string; train: string; test: string } {
  const dir = mkdtempSync(path.join(tempDir('split'), 'mnist-'));
  const tr = writeIdxSplit(dir, 'train', pixelBytes(train * 36), Array.from({ length: train }, (_, i) => i % 3), 6, 6, false);
  const te = writeIdxSplit(dir, 't10k', pixelBytes(test * testSide * testSide, 1), Array.from({ length: test }, (_, i) => i % 3), testSide, testSide, false);
  return { dir, train: tr.images, test: te.images };
}

/** `layerwise train` on mnist:DIR with a 60 s limit (the empty-split bug hung forever). */
function train(dir: string): { status: number | null; stderr: string; out: string } {
  requireBuiltCli();
  const out = mkdtempSync(path.join(os.tmpdir(), 'lw-split-'));
  const r = spawnSync(process.execPath, [CLI, 'train', '--data', `mnist:${dir}`, '--model', 'mlp', '--hidden', '4', '--batch-size', '4',
    '--epochs', '1', '--out-dir', out, '--name', 'r'], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, out: path.join(out, 'r') };
}

const config = (dir: string) => ({ ...DEFAULT_CONFIG, data: `mnist:${dir}`, batchSize: 4 });

describe('data checks at load time', () => {
  it('buildData: an empty training split (0 images) is a FileFormatError naming the train images file', () => {
    const d = idxDir(0, 8);
    expect(() => buildData(config(d.dir))).toThrow(FileFormatError);
    expect(() => buildData(config(d.dir))).toThrow(`${d.train}: the training split has no samples`);
  });

  it('buildData: an empty test split (0 images) is a FileFormatError naming the t10k images file', () => {
    const d = idxDir(8, 0);
    expect(() => buildData(config(d.dir))).toThrow(`${d.test}: the test split has no samples`);
  });

  it('buildData: train 1x6x6 vs test 1x4x4 names both files and both shapes', () => {
    const d = idxDir(8, 8, 4);
    let message = '';
    try {
      buildData(config(d.dir));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(d.train);
    expect(message).toContain(d.test);
    expect(message).toMatch(/1x6x6.*1x4x4/);
  });

  it('train CLI, empty training split: exits non-zero naming the file, no probe, no run written (60 s limit)', () => {
    const d = idxDir(0, 8);
    const r = train(d.dir);
    expect(r.status).not.toBe(null);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(d.train);
    expect(r.stderr).not.toContain('probe');
    expect(existsSync(path.join(r.out, 'eta.json'))).toBe(false);
  });

  it('train CLI, empty test split: exits non-zero naming the file before the probe (no top-1 NaN%)', () => {
    const d = idxDir(8, 0);
    const r = train(d.dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(d.test);
    expect(r.stderr).not.toContain('NaN');
    expect(existsSync(path.join(r.out, 'eta.json'))).toBe(false);
  });

  it('train CLI, train 1x6x6 vs test 1x4x4: exits non-zero before the probe naming both files and shapes', () => {
    const d = idxDir(8, 8, 4);
    const r = train(d.dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(d.train);
    expect(r.stderr).toContain(d.test);
    expect(r.stderr).toMatch(/1x6x6.*1x4x4/s);
    expect(existsSync(path.join(r.out, 'eta.json'))).toBe(false);
  });
});
