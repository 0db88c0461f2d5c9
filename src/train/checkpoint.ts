// Checkpoints of a run folder, atomic as a whole: the optimizer state goes to a step-stamped
// optimizer-<step>.safetensors first; then checkpoint.safetensors (the model weights under
// PyTorch names, loadable by torch, with the run state as JSON in its metadata) is written to a
// temporary file and renamed over the old one: that rename is the commit point, so a crash at any
// moment leaves the previous checkpoint and its optimizer file intact. Older optimizer files are
// removed after the commit, and state.json mirrors the state for people and tools.
import type { GradScalerState } from '../optim/grad-scaler';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { assertNoStickyError } from '../device';
import { FileFormatError } from '../errors';
import { loadingFrom, loadStateDictFile, saveStateDict } from '../io/state-dict';
import type { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import { optimizerStateFromTensors, optimizerStateToTensors, type OptimizerStateJSON } from '../optim/state';
import type { Tensor } from '../tensor';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const STATE_FILE = 'state.json';
const FORMAT = 'layerwise-checkpoint/1';

/** Everything besides tensors that a resume needs. */
export interface RunState {
  step: number;
  epoch: number;
  /** Micro-batches of `epoch` already consumed. */
  batchInEpoch: number;
  /** Running sums of the current epoch's training loss (for its epoch record). */
  epochLossSum: number;
  epochLossCount: number;
  /** Dropout stream position (random.ts). */
  random: { seed: number; offset: number };
  /** Lines of metrics.jsonl that belong to steps up to `step`. */
  metricsLines: number;
  config: unknown;
  eta: unknown;
  probe: unknown;
  /** The fp16 loss scaler's state (GradScaler.stateDict()); absent for fp32 / bf16 runs. */
  scaler?: GradScalerState;
  /** Set by the last checkpoint of a finished run: its final evaluation (its summary is written). */
  final?: { loss: number; top1: number; top5: number; samples: number; nonFinite?: number };
}

interface StoredState extends RunState {
  format: string;
  optimizerFile: string;
  optimizer: OptimizerStateJSON;
}

function optimizerFileName(step: number): string {
  return `optimizer-${String(step).padStart(8, '0')}.safetensors`;
}

/**
 * Removes the temporary files a killed writer left in a run folder (checkpoint.safetensors.tmp-*,
 * optimizer-*.safetensors.tmp-*, state.json.tmp-*): nothing refers to them, since only the
 * rename commits a file. Called on resume and before each checkpoint write.
 */
export function removeStaleTempFiles(dir: string): string[] {
  const stale = existsSync(dir) ? readdirSync(dir).filter((f) => /^(checkpoint\.safetensors|optimizer-\d+\.safetensors|state\.json)\.tmp-/.test(f)) : [];
  for (const f of stale) rmSync(path.join(dir, f), { force: true });
  return stale;
}

export function saveCheckpoint(dir: string, model: Module, optimizer: Optimizer, state: RunState): void {
  // After a sticky CUDA error the device holds garbage: stop rather than overwrite a good checkpoint.
  assertNoStickyError(`checkpoint of step ${state.step} in ${dir}`);
  removeStaleTempFiles(dir);
  const optimizerFile = optimizerFileName(state.step);
  const { tensors, rest } = optimizerStateToTensors(optimizer.stateDict());
  saveStateDict(path.join(dir, optimizerFile), tensors, { format: FORMAT, step: String(state.step) });
  const stored: StoredState = { format: FORMAT, ...state, optimizerFile, optimizer: rest };
  const json = JSON.stringify(stored);
  saveStateDict(path.join(dir, CHECKPOINT_FILE), model.stateDict(), { format: FORMAT, step: String(state.step), state: json });
  for (const f of readdirSync(dir)) {
    if (/^optimizer-\d+\.safetensors$/.test(f) && f !== optimizerFile) rmSync(path.join(dir, f), { force: true });
  }
  const tmp = path.join(dir, `${STATE_FILE}.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify(stored, null, 2) + '\n');
  renameSync(tmp, path.join(dir, STATE_FILE));
}

export interface LoadedCheckpoint {
  state: RunState;
  weights: Map<string, Tensor>;
  /** Loads the optimizer state into `optimizer` (its parameters must match the model's). */
  restoreOptimizer(optimizer: Optimizer): void;
}

/** Reads the checkpoint of a run folder; the caller disposes `weights` after loading them. */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) throw new FileFormatError(file, 'no checkpoint in this run folder (nothing to resume)');
  const { tensors: weights, metadata } = loadStateDictFile(file);
  let stored: StoredState;
  try {
    stored = JSON.parse(metadata.state ?? '');
  } catch {
    throw new FileFormatError(file, 'the checkpoint has no run state in its metadata (not written by layerwise train?)');
  }
  if (stored.format !== FORMAT) throw new FileFormatError(file, `unknown checkpoint format ${stored.format}`);
  const optimizerPath = path.join(dir, stored.optimizerFile);
  return {
    state: stored,
    weights,
    restoreOptimizer(optimizer) {
      if (!existsSync(optimizerPath)) throw new FileFormatError(optimizerPath, 'the optimizer state of the checkpoint is missing');
      const { tensors, metadata: meta } = loadStateDictFile(optimizerPath);
      if (meta.step !== String(stored.step)) {
        throw new FileFormatError(optimizerPath, `optimizer state is from step ${meta.step}, the checkpoint from step ${stored.step}`);
      }
      try {
        loadingFrom(optimizerPath, () => optimizer.loadStateDict(optimizerStateFromTensors(tensors, stored.optimizer)));
      } finally {
        for (const t of tensors.values()) t.dispose();
      }
    },
  };
}
