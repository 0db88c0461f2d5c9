// A non-finite loss stops the run with an error naming the step; the last good checkpoint stays
// loadable (eval reads it).
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { runCli } from '../helpers/cli';

test('lr 1e9 diverges: the error names the step and the loss; the checkpoint before it still evaluates', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'lw-nan-'));
  const r = runCli(['train', '--data', 'synthetic:128:1x8x8:3', '--model', 'mlp', '--hidden', '32', '--lr-mode', 'single', '--init', 'pytorch',
    '--lr', '1e9', '--momentum', '0', '--batch-size', '16', '--max-steps', '50', '--checkpoint-every', '1', '--out-dir', out, '--name', 'nan']);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/training stopped at step (\d+)( \(epoch \d+\): the loss is (NaN|Infinity|-Infinity)|: parameters .* are no longer finite); the last checkpoint in .* is from step \d+/);
  const ev = runCli(['eval', path.join(out, 'nan'), '--json']);
  expect(ev.status, ev.stderr).toBe(0);
  expect(JSON.parse(ev.stdout).samples).toBeGreaterThan(0);
});
