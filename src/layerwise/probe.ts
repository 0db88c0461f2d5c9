// The probe, the paper's Algorithm 1: T minibatches from the training data (same transforms),
// model in train mode, no parameter update; G_i accumulates mean |dL/dtheta_i| of each
// parameter tensor (option: sum) with one native multi-tensor reduction per step. Afterwards
// every parameter and buffer (BatchNorm running statistics included) is bit-identical to before,
// the model's mode and gradients are restored, and eta follows (eta.ts). With `converge` the probe
// stops early once the running eta has settled (convergence.ts), using the sums it reads anyway.
import { ArgumentError } from '../errors';
import { noGrad } from '../autograd/tape';
import { crossEntropy } from '../autograd/ops/loss';
import { keep, scope } from '../memory';
import { kernels } from '../native/addon';
import type { Module } from '../nn/module';
import type { Parameter } from '../nn/parameter';
import { Tensor, DTYPE_BYTES } from '../tensor';
import { EtaConvergence, type ProbeConvergence } from './convergence';
import { computeEta, type EtaEntry, type EtaOptions } from './eta';

export interface ProbeBatch {
  images: Tensor;
  labels: Tensor;
}

export interface ProbeOptions extends EtaOptions {
  /** Number of minibatches T (the paper: one epoch); with `converge`, the most batches. */
  steps: number;
  /** Stop before `steps` once the running eta has converged (`--probe-steps auto`). */
  converge?: ProbeConvergence;
  /** Per-step statistic of |g|: 'mean' (the paper) or 'sum'. */
  reduce?: 'mean' | 'sum';
  /**
   * Called after batch t (1-based) with the sums G so far (read-only; valid during the call): the
   * eta of a T = t probe is computeEta of these G, so one pass can give several T (scripts/probe-table3.mjs).
   */
  onStep?: (t: number, G: Float64Array) => void;
  /** Loss of a batch; default cross-entropy of model(images) against labels. */
  loss?: (model: Module, batch: ProbeBatch) => Tensor;
}

export interface ProbeResult {
  entries: EtaEntry[];
  /** Batches the probe ran (T). */
  steps: number;
  /** 'converged': the `converge` rule stopped it; 'steps': it ran all `steps` batches. */
  stopped: 'converged' | 'steps';
  /** With `converge`: the largest relative eta change over the last window at the last check (Infinity if never checked). */
  change?: number;
  seconds: number;
  /** Seconds per probe step (forward + backward + reduction). */
  secondsPerStep: number;
}

function snapshot(tensors: Tensor[]): Tensor[] {
  return noGrad(() => tensors.map((t) => keep(t.clone())));
}

function restore(targets: Tensor[], saved: Tensor[]): void {
  targets.forEach((t, i) => {
    kernels.copy_bytes(t.buffer, saved[i].buffer, t.numel * DTYPE_BYTES[t.dtype]);
    saved[i].dispose();
  });
}

/** Runs Algorithm 1; `nextBatch(t)` returns the t-th training batch (disposed by the probe). */
export function probe(model: Module, nextBatch: (t: number) => ProbeBatch, options: ProbeOptions): ProbeResult {
  const steps = options.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new ArgumentError(`probe: steps must be a positive integer, got ${steps}`);
  const reduce = options.reduce ?? 'mean';
  if (reduce !== 'mean' && reduce !== 'sum') throw new ArgumentError(`probe: reduce must be 'mean' or 'sum', got '${reduce}'`);
  const lossOf = options.loss ?? ((m: Module, b: ProbeBatch) => crossEntropy(m.call(b.images), b.labels));
  const named = model.namedParameters();
  const params: Parameter[] = named.map(([, p]) => p);
  model.stateDict();  // writes host-side buffer state (BatchNorm's batch counter) into the buffers
  const buffers = model.buffers();
  const savedParams = snapshot(params);
  const savedBuffers = snapshot(buffers);
  const savedGrads = params.map((p) => p.grad);
  const modes = [...model.namedModules()].map(([, m]) => [m, m.training] as const);
  const numels = params.map((p) => p.numel);
  const scales = numels.map((n) => (reduce === 'mean' ? 1 / n : 1));
  const G = new Float64Array(params.length);
  const convergence = options.converge ? new EtaConvergence(named.map(([n]) => n), numels, options.converge, options) : null;
  let done = 0;
  let converged = false;
  const start = performance.now();
  try {
    for (const p of params) p.grad = null;
    model.train();
    for (let t = 0; t < steps && !converged; t++) {
      scope(() => {
        const loss = lossOf(model, nextBatch(t));
        loss.backward();
        const missing = params.filter((p) => p.grad === null);
        for (const p of missing) p.grad = Tensor.zeros(p.shape, { device: p.device });
        const out = Tensor.empty([params.length], { device: params[0]?.device ?? 'cpu' });
        kernels.multi_reduce_abs_sum(out.buffer, params.map((p) => p.grad!.buffer), numels, scales, params.length);
        const values = out.toArray();
        for (let i = 0; i < values.length; i++) G[i] += values[i];
        for (const p of params) {
          p.grad!.dispose();
          p.grad = null;
        }
      });
      done = t + 1;
      options.onStep?.(done, G);
      if (convergence) converged = convergence.update(G, done);
    }
  } finally {
    restore(params, savedParams);
    restore(buffers, savedBuffers);
    model.reloadHostState();
    params.forEach((p, i) => (p.grad = savedGrads[i]));
    for (const [m, mode] of modes) m.training = mode;
  }
  const seconds = (performance.now() - start) / 1000;
  const entries = computeEta(
    named.map(([name, p], i) => ({ name, numel: p.numel, G: G[i] })),
    options,
  );
  return {
    entries, steps: done, stopped: converged ? 'converged' : 'steps', seconds, secondsPerStep: seconds / done,
    ...(convergence ? { change: convergence.change } : {}),
  };
}
