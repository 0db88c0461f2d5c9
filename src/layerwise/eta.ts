// From probed gradient magnitudes G_i to learning-rate multipliers eta_i (docs/method.md section 2.3):
// eta_i = 1/sqrt(G_i), normalized so that sum_i m_i eta_i / sum_i m_i = 1 (m_i = numel).
// Tensors whose G is zero or far below the rest (the attention key bias gets exactly zero
// gradient) are degenerate: named, given eta = 1 (or frozen) and left out of the normalization.
import { ArgumentError, LayerwiseError } from '../errors';

export interface EtaInput {
  name: string;
  numel: number;
  G: number;
}

export interface EtaEntry extends EtaInput {
  /** The parameter's declared role (ParameterRole), when known. */
  role?: string;
  eta: number;
  /** Why this tensor was left out of the normalization, if it was. */
  degenerate?: 'zero-gradient' | 'below-threshold';
  frozen?: boolean;
}

export interface EtaOptions {
  /** G_i < threshold * median(G) marks a degenerate tensor (default 1e-6). */
  degenerateThreshold?: number;
  /** What a degenerate tensor gets: eta 1 (default) or frozen (eta 0, no update). */
  degenerate?: 'eta1' | 'freeze';
  /** G_i = 0 is an error naming the tensor unless 'fallback' (then it is treated as degenerate). */
  zeroGradient?: 'error' | 'fallback';
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function computeEta(inputs: readonly EtaInput[], options: EtaOptions = {}): EtaEntry[] {
  if (inputs.length === 0) throw new ArgumentError('eta: no parameter tensors');
  const threshold = options.degenerateThreshold ?? 1e-6;
  const zeros = inputs.filter((t) => t.G === 0);
  if (zeros.length > 0 && (options.zeroGradient ?? 'error') === 'error') {
    throw new LayerwiseError(
      'ERR_ZERO_GRADIENT',
      `eta: ${zeros.map((t) => t.name).join(', ')} received no gradient during the probe (G = 0); ` +
        'check that the tensor is used by the forward pass, or choose the zero-gradient fallback',
    );
  }
  for (const t of inputs) {
    if (!(t.G >= 0) || !Number.isFinite(t.G)) throw new ArgumentError(`eta: G of ${t.name} is ${t.G}`);
  }
  const positive = inputs.filter((t) => t.G > 0).map((t) => t.G);
  const med = positive.length > 0 ? median(positive) : 0;
  const entries: EtaEntry[] = inputs.map((t) => {
    if (t.G === 0) return { ...t, eta: 1, degenerate: 'zero-gradient' };
    if (t.G < threshold * med) return { ...t, eta: 1, degenerate: 'below-threshold' };
    return { ...t, eta: 1 / Math.sqrt(t.G) };
  });
  const regular = entries.filter((e) => e.degenerate === undefined);
  if (regular.length === 0) throw new LayerwiseError('ERR_ZERO_GRADIENT', 'eta: every tensor is degenerate; nothing to normalize');
  const totalNumel = regular.reduce((s, e) => s + e.numel, 0);
  const weighted = regular.reduce((s, e) => s + e.numel * e.eta, 0);
  const scale = totalNumel / weighted;
  for (const e of regular) e.eta *= scale;
  if (options.degenerate === 'freeze') {
    for (const e of entries) {
      if (e.degenerate !== undefined) {
        e.eta = 0;
        e.frozen = true;
      }
    }
  }
  return entries;
}

/** Parameter-weighted mean of eta over the non-degenerate tensors (1 after computeEta). */
export function weightedMeanEta(entries: readonly EtaEntry[]): number {
  const regular = entries.filter((e) => e.degenerate === undefined);
  return regular.reduce((s, e) => s + e.numel * e.eta, 0) / regular.reduce((s, e) => s + e.numel, 0);
}
