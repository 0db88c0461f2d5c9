// The stopping rule of `--probe-steps auto` (docs/method.md section 2.2): after batch t the probe
// computes the running eta, the normalized eta of G/t exactly as at the end (degenerate rule
// included), and stops once no tensor's eta has moved by more than `tol` (relative) over the last
// `window` batches: max_i max_{t-window <= s < t} |eta_i(s) - eta_i(t)| / eta_i(t) < tol, checked
// from batch `minSteps` on. Host-side only: it reads the per-tensor sums the probe already has.
import { ArgumentError, LayerwiseError } from '../errors';
import { computeEta, type EtaOptions } from './eta';

export interface ProbeConvergence {
  /** Relative change of eta below which the probe stops (0.005 = 0.5%). */
  tol: number;
  /** Batches over which the change is measured. */
  window: number;
  /** First batch at which the rule is checked. */
  minSteps: number;
}

export const DEFAULT_CONVERGENCE: Readonly<ProbeConvergence> = Object.freeze({ tol: 0.005, window: 20, minSteps: 50 });

/** Checks the rule's settings; errors name the setting (`option` maps a key to its spelling). */
export function validateConvergence(c: ProbeConvergence, option: (key: keyof ProbeConvergence) => string = (k) => `probe: converge.${k}`): void {
  if (typeof c.tol !== 'number' || !(c.tol > 0 && c.tol < 1)) {
    throw new ArgumentError(`${option('tol')}: got ${JSON.stringify(c.tol)}; accepted: a number in (0, 1) such as 0.005 (0.5%)`);
  }
  for (const k of ['window', 'minSteps'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new ArgumentError(`${option(k)}: got ${JSON.stringify(c[k])}; accepted: a positive integer`);
  }
}

/** The largest relative difference |a_i - b_i| / |b_i| (0 where both are 0). */
export function maxRelativeChange(a: Float64Array, b: Float64Array): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) {
    const d = a[i] === b[i] ? 0 : b[i] === 0 ? Infinity : Math.abs(a[i] - b[i]) / Math.abs(b[i]);
    if (d > max) max = d;
  }
  return max;
}

/** Tracks the running eta of a probe and says when it has converged. */
export class EtaConvergence {
  private readonly history: Float64Array[] = [];
  /** The change measured at the latest check (Infinity before the first). */
  change = Infinity;

  constructor(
    private readonly names: readonly string[],
    private readonly numels: readonly number[],
    private readonly rule: ProbeConvergence,
    private readonly etaOptions: EtaOptions,
  ) {
    validateConvergence(rule);
  }

  /** The normalized eta of G/t; a tensor with no gradient yet counts as degenerate (eta 1). */
  runningEta(G: Float64Array, t: number): Float64Array | null {
    const inputs = this.names.map((name, i) => ({ name, numel: this.numels[i], G: G[i] / t }));
    try {
      return Float64Array.from(computeEta(inputs, { ...this.etaOptions, zeroGradient: 'fallback' }), (e) => e.eta);
    } catch (e) {
      // Every tensor degenerate so far: nothing to compare yet.
      if (e instanceof LayerwiseError && e.code === 'ERR_ZERO_GRADIENT') return null;
      throw e;
    }
  }

  /** Call after batch t (1-based) with the accumulated sums G; true when the probe may stop. */
  update(G: Float64Array, t: number): boolean {
    const { window, minSteps, tol } = this.rule;
    if (t + window < minSteps) return false;  // too early to matter for the first check
    const eta = this.runningEta(G, t);
    if (eta === null) {
      this.history.length = 0;
      return false;
    }
    this.history.push(eta);
    if (this.history.length > window + 1) this.history.shift();
    if (t < minSteps || this.history.length < window + 1) return false;
    let change = 0;
    for (let s = 0; s < window; s++) change = Math.max(change, maxRelativeChange(this.history[s], eta));
    this.change = change;
    return change < tol;
  }
}
