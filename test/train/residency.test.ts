// Device residency of the training loop: a training step that is not a log point reads nothing
// back from the device (the loss and its NaN check stay on the device until a log point, the
// BatchNorm batch counter is on the host, the fp32/bf16 loss scaler is off). Counted with the
// binding's device-to-host read counter (memory().deviceToHostReads) between the progress
// callbacks of consecutive steps of the default CNN, for fp32, bf16 autocast and channels-last.
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { memory } from '../../src/memory';
import { resolveConfig } from '../../src/train/config';
import { runTraining } from '../../src/train/run';

function readsPerStep(extra: Record<string, unknown>): { step: number; reads: number }[] {
  const out = mkdtempSync(path.join(os.tmpdir(), 'lw-residency-'));
  const config = resolveConfig({}, {
    data: 'synthetic:512:1x28x28:10', model: 'cnn', hidden: 16, batchSize: 32, maxSteps: 9, logInterval: 100,
    probeSteps: 2, outDir: out, name: 'r', ...extra,
  });
  const seen: { step: number; reads: number }[] = [];
  let previous = -1;
  runTraining(config, path.join(out, 'r'), null, {
    quiet: true,
    onProgress: (p) => {
      const now = memory().deviceToHostReads;
      if (previous >= 0) seen.push({ step: p.done, reads: now - previous });
      previous = now;
    },
  });
  return seen;
}

describe('a non-logging training step of the default CNN makes no device-to-host read', () => {
  for (const [name, extra] of [
    ['fp32', {}],
    ['bf16 autocast', { precision: 'bf16' }],
    ['channels-last', { channelsLast: true }],
  ] as const) {
    test(name, () => {
      const steps = readsPerStep(extra);
      // Steps 2..8: no log point (interval 100), no checkpoint, no epoch end (16 batches per epoch).
      const quiet = steps.filter((s) => s.step >= 2 && s.step <= 8);
      expect(quiet.length).toBe(7);
      expect(quiet, JSON.stringify(steps)).toEqual(quiet.map((s) => ({ step: s.step, reads: 0 })));
      // The last step is a log point: it reads the loss sums (and evaluation follows).
      expect(steps.find((s) => s.step === 9)!.reads).toBeGreaterThan(0);
    });
  }
});
