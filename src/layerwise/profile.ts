// Eta profiles as data (docs/method.md section 2.5): the model, T, batch size, seed, data source
// and per tensor name, numel, G and eta; saved as JSON next to a run and reusable by a later run.
// compareProfiles gives the paper's Table 3 measure (max and mean deviation of eta, in %).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ArgumentError, FileFormatError } from '../errors';
import type { Module } from '../nn/module';
import type { Parameter } from '../nn/parameter';
import type { ProbeConvergence } from './convergence';
import type { EtaEntry } from './eta';

/** Why the probe stopped: the auto rule converged, it reached one epoch, or it ran a fixed T. */
export type ProbeStop = 'converged' | 'epoch' | 'steps';

export interface EtaProfile {
  format: 'layerwise-eta/1';
  model: string;
  steps: number;
  batchSize: number;
  seed: number;
  data: string;
  reduce: 'mean' | 'sum';
  /** Seconds the probe took. */
  seconds?: number;
  /** Why the probe stopped after `steps` batches (absent in profiles that were not probed). */
  stopped?: ProbeStop;
  /** With --probe-steps auto: the rule, the batches of one epoch (the cap) and the eta change at the stop. */
  convergence?: ProbeConvergence & { epochSteps: number; change: number | null };
  params: EtaEntry[];
  /** The degenerate tensors (eta 1 or frozen, outside the normalization): written only when there are any. */
  degenerate?: DegenerateSummary;
}

export interface DegenerateSummary {
  tensors: number;
  /** Their parameters (sum of numel). */
  params: number;
  names: string[];
}

/** The tensors the degenerate rule named (e.g. every attention key bias), with their parameter count. */
export function degenerateSummary(params: readonly EtaEntry[]): DegenerateSummary {
  const d = params.filter((e) => e.degenerate !== undefined);
  return { tensors: d.length, params: d.reduce((n, e) => n + e.numel, 0), names: d.map((e) => e.name) };
}


export function saveProfile(file: string, profile: EtaProfile): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const summary = degenerateSummary(profile.params);
  const out = summary.tensors > 0 ? { ...profile, degenerate: summary } : profile;
  writeFileSync(tmp, JSON.stringify(out, null, 2) + '\n');
  renameSync(tmp, file);
}

export function loadProfile(file: string): EtaProfile {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FileFormatError(file, `cannot read: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (e) {
    throw new FileFormatError(file, `not valid JSON: ${(e as Error).message}`);
  }
  const p = data as Partial<EtaProfile>;
  const problems: string[] = [];
  if (p === null || typeof p !== 'object') problems.push('not a JSON object');
  else {
    if (!Array.isArray(p.params)) problems.push('missing "params" array');
    else {
      p.params.forEach((e, i) => {
        if (typeof e?.name !== 'string') problems.push(`params[${i}].name is not a string`);
        for (const k of ['numel', 'eta'] as const) {
          if (typeof e?.[k] !== 'number' || !Number.isFinite(e[k])) problems.push(`params[${i}].${k} is not a finite number`);
        }
        // G is null for profiles that were not measured (depth-linear baselines).
        if (e?.G === null) (e as { G: number }).G = NaN;
        else if (typeof e?.G !== 'number' || !Number.isFinite(e.G)) problems.push(`params[${i}].G is not a finite number or null`);
      });
    }
  }
  if (problems.length > 0) throw new FileFormatError(file, `not an eta profile: ${problems.join('; ')}`);
  return p as EtaProfile;
}

/** Maps each parameter of `model` to its eta, checking names and sizes against the profile. */
export function etaForModel(model: Module, profile: EtaProfile, source = 'eta profile'): Map<Parameter, number> {
  const byName = new Map(profile.params.map((e) => [e.name, e]));
  const problems: string[] = [];
  const out = new Map<Parameter, number>();
  const named = model.namedParameters();
  for (const [name, p] of named) {
    const e = byName.get(name);
    if (!e) problems.push(`missing ${name}`);
    else if (e.numel !== p.numel) problems.push(`${name} has ${e.numel} values in the profile, ${p.numel} in the model`);
    else out.set(p, e.eta);
  }
  const names = new Set(named.map(([n]) => n));
  for (const e of profile.params) if (!names.has(e.name)) problems.push(`unexpected ${e.name}`);
  if (problems.length > 0) throw new ArgumentError(`${source} does not match the model: ${problems.join('; ')}`);
  return out;
}

export interface ProfileComparison {
  /** max_i |eta_a - eta_b| / eta_b, in percent. */
  maxDeviationPct: number;
  meanDeviationPct: number;
  worst: string;
}

/** The paper's Table 3 measure of how far profile `a` is from reference `b`. */
export function compareProfiles(a: EtaProfile, b: EtaProfile): ProfileComparison {
  const ref = new Map(b.params.map((e) => [e.name, e]));
  if (a.params.length !== b.params.length || a.params.some((e) => !ref.has(e.name))) {
    throw new ArgumentError('compare: the two profiles do not have the same parameter names');
  }
  let max = 0;
  let sum = 0;
  let worst = '';
  for (const e of a.params) {
    const r = ref.get(e.name)!;
    const dev = r.eta === 0 ? (e.eta === 0 ? 0 : Infinity) : (Math.abs(e.eta - r.eta) / r.eta) * 100;
    sum += dev;
    if (dev > max || worst === '') {
      max = dev;
      worst = e.name;
    }
  }
  return { maxDeviationPct: max, meanDeviationPct: sum / a.params.length, worst };
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return '-';
  return v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(3);
}

function stopNote(p: EtaProfile): string {
  const c = p.convergence;
  if (!c) return p.stopped === 'epoch' ? ' (one epoch)' : '';
  const pct = (v: number) => `${Number((100 * v).toPrecision(3))}%`;
  const rule = `tol ${pct(c.tol)} over ${c.window} batches, min ${c.minSteps}`;
  const change = c.change === null ? 'never checked' : `change ${pct(c.change)}`;
  return p.stopped === 'converged'
    ? ` (auto: converged, ${change}; ${rule}; epoch ${c.epochSteps})`
    : ` (auto: not converged within one epoch, ${change}; ${rule})`;
}

/** A readable table: index, name, numel, G, eta, and a note for degenerate tensors. */
export function formatProfileTable(profile: EtaProfile): string {
  const rows = profile.params.map((e, i) => [
    String(i), e.name, String(e.numel), formatNumber(e.G), formatNumber(e.eta),
    e.degenerate ? `${e.degenerate}${e.frozen ? ', frozen' : ', eta=1'}` : '',
  ]);
  const header = ['#', 'parameter', 'numel', 'G (mean |grad|)', 'eta', ''];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c >= 2 && c <= 4 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  const title = `eta profile: ${profile.model}, T=${profile.steps} batches of ${profile.batchSize}${stopNote(profile)}, data ${profile.data}, seed ${profile.seed}`;
  const lines = [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const d = degenerateSummary(profile.params);
  if (d.tensors > 0) {
    const total = profile.params.reduce((s, e) => s + e.numel, 0);
    const share = total > 0 ? ` (${Number(((100 * d.params) / total).toPrecision(3))}% of ${total.toLocaleString('en-US')})` : '';
    lines.push(`degenerate: ${d.tensors} tensor(s), ${d.params.toLocaleString('en-US')} parameters${share}, outside the normalization`);
  }
  return lines.join('\n');
}
