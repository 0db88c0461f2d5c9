// --device parsing, and the rule that no checkpoint is written after a sticky CUDA error (the
// device state is garbage then): simulated through the sticky-error hook of cuda-backend.ts.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { assertNoStickyError, parseDevice, resolveDevice } from '../../src/device';
import { nn } from '../../src';
import { probeCuda, setStickyErrorProbeForTests } from '../../src/native/cuda-backend';
import { SGD } from '../../src/optim/sgd';
import { saveCheckpoint, type RunState } from '../../src/train/checkpoint';

afterEach(() => setStickyErrorProbeForTests(null));

const state: RunState = {
  step: 3, epoch: 0, batchInEpoch: 3, epochLossSum: 0, epochLossCount: 0, random: { seed: 0, offset: 0 },
  metricsLines: 0, config: {}, eta: null, probe: null,
};

describe('devices', () => {
  test('parseDevice accepts cpu, cuda and auto; anything else names what it accepts', () => {
    expect(['cpu', 'cuda', 'auto'].map(parseDevice)).toEqual(['cpu', 'cuda', 'auto']);
    expect(() => parseDevice('gpu')).toThrow(/unknown device 'gpu' \(expected 'cpu', 'cuda' or 'auto'\)/);
  });

  test('auto picks cuda when the CUDA backend works, else cpu saying why', () => {
    const r = resolveDevice('auto');
    if (probeCuda().available) expect(r.note).toMatch(/^cuda: .+ \(auto: a CUDA device works\)$/);
    else {
      expect(r.device).toBe('cpu');
      expect(r.note).toMatch(/^cpu \(auto: CUDA backend unavailable: .+\)$/);
    }
  });

  test('a checkpoint after a sticky CUDA error is refused (ERR_CUDA_STICKY) and writes nothing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-sticky-'));
    const model = new nn.Linear(3, 2);
    const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    setStickyErrorProbeForTests(() => 'cudaErrorIllegalAddress: an illegal memory access was encountered (in conv2d_forward)');
    expect(() => saveCheckpoint(dir, model, optimizer, state)).toThrow(
      expect.objectContaining({ code: 'ERR_CUDA_STICKY', message: expect.stringMatching(/checkpoint of step 3 .* not written.*illegal memory access/) }));
    expect(readdirSync(dir)).toEqual([]);
    setStickyErrorProbeForTests(null);
    saveCheckpoint(dir, model, optimizer, state);
    expect(existsSync(path.join(dir, 'checkpoint.safetensors'))).toBe(true);
    expect(() => assertNoStickyError('x')).not.toThrow();
    model.dispose();
  });
});
