// The depth-linear baselines of the paper's Figure 1 (docs/method.md section 5, "increasing" /
// "decreasing"): eta linear in a tensor's depth, i.e. its position 0..L-1 in namedParameters order,
// from 0.1 to 1 ('increasing') or from 2 to 1 ('decreasing'), then normalized as the layer-wise
// eta (eta.ts): eta_i *= sum_j m_j / sum_j (m_j * eta_j), so sum m_i eta_i / sum m_i = 1.
// Entries have computeEta's shape so that they form an eta profile (profile.ts). No probe runs, so
// G is NaN, "not measured" (never 0, which would read as a tensor without gradient); JSON writes
// it as null, so a profile reader must take G = null as not measured.
import { ArgumentError } from '../errors';
import type { EtaEntry } from './eta';

export type DepthProfile = 'increasing' | 'decreasing';

/** eta before normalization at the first and the last tensor (paper Fig. 1). */
export const DEPTH_ENDPOINTS: Readonly<Record<DepthProfile, readonly [number, number]>> = {
  increasing: [0.1, 1],
  decreasing: [2, 1],
};

/**
 * eta linear in depth, normalized to a parameter-weighted mean of 1. `named` is the model's
 * namedParameters() (anything with a numel will do); a single tensor gets eta 1.
 */
export function depthEta(named: readonly (readonly [string, { readonly numel: number }])[], profile: DepthProfile): EtaEntry[] {
  const ends = DEPTH_ENDPOINTS[profile];
  if (ends === undefined) throw new ArgumentError(`depthEta: profile must be 'increasing' or 'decreasing', got ${JSON.stringify(profile)}`);
  if (named.length === 0) throw new ArgumentError('depthEta: no parameter tensors');
  const [first, last] = ends;
  const L = named.length;
  const raw = named.map((_, i) => (L === 1 ? last : first + ((last - first) * i) / (L - 1)));
  let totalNumel = 0;
  let weighted = 0;
  named.forEach(([name, p], i) => {
    if (!Number.isSafeInteger(p.numel) || p.numel <= 0) throw new ArgumentError(`depthEta: ${name} has numel ${p.numel}`);
    totalNumel += p.numel;
    weighted += p.numel * raw[i];
  });
  const scale = totalNumel / weighted;
  return named.map(([name, p], i) => ({ name, numel: p.numel, G: NaN, eta: raw[i] * scale }));
}
