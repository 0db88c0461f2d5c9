// Optimizer state dicts in PyTorch's structure and keys (torch.optim.Optimizer.state_dict()):
// `state` maps a parameter index to its state (SGD: momentum_buffer; AdamW: step, exp_avg,
// exp_avg_sq) and `param_groups` lists each group's hyperparameters and its parameters' indices,
// numbered over the groups in order, then over each group's parameters. This file holds the types,
// the validation that loadStateDict runs before it touches anything, and the checkpoint form:
// tensors under flat names (`state.3.momentum_buffer`) for safetensors, and a JSON-able rest
// (the state dict with its tensors removed: step counts, hyperparameters, indices).
// The optimizer-side methods are Optimizer.stateDict()/loadStateDict() (optimizer.ts).
import { StateDictError } from '../errors';
import type { Parameter } from '../nn/parameter';
import { shapeToString, type Tensor } from '../tensor';

/** One parameter's state: tensors shaped like the parameter, and integer counters (AdamW's step). */
export type ParamState = Readonly<Record<string, Tensor | number>>;
export type SGDParamState = { momentum_buffer: Tensor };
export type AdamWParamState = { step: number; exp_avg: Tensor; exp_avg_sq: Tensor };

/** A hyperparameter value as it appears in a param group (JSON-able). */
export type GroupOption = number | boolean | readonly number[];

/** One param group: lr and weight_decay, the optimizer's options, torch's initial_lr, indices. */
export type ParamGroupState = {
  lr: number;
  weight_decay: number;
  /** The lr before any schedule (added by torch's LR schedulers; always written here). */
  initial_lr?: number;
  params: number[];
  [option: string]: GroupOption | undefined;
};
export type SGDParamGroupState = ParamGroupState & { momentum: number; dampening: number; nesterov: boolean };
export type AdamWParamGroupState = ParamGroupState & { betas: [number, number]; eps: number };

export interface OptimizerStateDict<S extends ParamState = ParamState, G extends ParamGroupState = ParamGroupState> {
  state: Map<number, S>;
  param_groups: G[];
}
export type SGDStateDict = OptimizerStateDict<SGDParamState, SGDParamGroupState>;
export type AdamWStateDict = OptimizerStateDict<AdamWParamState, AdamWParamGroupState>;

/** The JSON-able rest of a state dict: `state` keeps only counters, keyed by the decimal index. */
export interface OptimizerStateJSON {
  state: Record<string, Record<string, number>>;
  param_groups: ParamGroupState[];
}

/** What an optimizer expects in a state dict it loads (built by Optimizer.loadStateDict). */
export interface StateSpec {
  /** 'SGD.loadStateDict', for messages. */
  op: string;
  /** Each group's parameters, in order. */
  groups: readonly (readonly Parameter[])[];
  /** Hyperparameters fixed at construction; every loaded group must carry these exact values. */
  fixedOptions: Readonly<Record<string, GroupOption>>;
  /** Keys of a parameter's state that are tensors shaped like the parameter. */
  tensorKeys: readonly string[];
  /** Keys of a parameter's state that are non-negative integers. */
  counterKeys: readonly string[];
}

/**
 * Validates `sd` against `spec`, reporting every problem in one StateDictError, and returns the
 * parameter each saved index stands for. As in PyTorch, saved indices map to parameters by
 * position: the k-th index of saved group g is the k-th parameter of group g.
 */
export function checkStateDict(sd: OptimizerStateDict, spec: StateSpec): Map<number, Parameter> {
  const problems: string[] = [];
  const byIndex = new Map<number, Parameter>();
  const groups = Array.isArray(sd?.param_groups) ? sd.param_groups : null;
  if (groups === null) problems.push('param_groups must be an array');
  else if (groups.length !== spec.groups.length) {
    problems.push(`the state dict has ${groups.length} parameter groups, the optimizer has ${spec.groups.length}`);
  } else {
    groups.forEach((g, gi) => checkGroup(g, gi, spec, byIndex, problems));
  }
  if (!(sd?.state instanceof Map)) problems.push('state must be a Map from parameter index to state');
  else if (groups !== null && groups.length === spec.groups.length) {
    for (const [index, entry] of sd.state) {
      const p = byIndex.get(index);
      if (p === undefined) problems.push(`state for index ${index}: no parameter group lists this index`);
      else checkEntry(entry, index, p, spec, problems);
    }
  }
  if (problems.length > 0) {
    throw new StateDictError(`${spec.op}: invalid optimizer state dict:\n  ${problems.join('\n  ')}`, problems);
  }
  return byIndex;
}

function checkGroup(g: ParamGroupState, gi: number, spec: StateSpec, byIndex: Map<number, Parameter>, problems: string[]): void {
  const where = `param_groups[${gi}]`;
  if (typeof g !== 'object' || g === null) {
    problems.push(`${where} must be an object`);
    return;
  }
  for (const key of ['lr', 'weight_decay', ...(g.initial_lr !== undefined ? ['initial_lr'] : [])]) {
    const v = g[key];
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) problems.push(`${where}.${key} must be a finite number >= 0, got ${describe(v)}`);
  }
  for (const [key, expected] of Object.entries(spec.fixedOptions)) {
    if (!(key in g)) problems.push(`${where} has no ${key} (the optimizer has ${describe(expected)})`);
    else if (!sameOption(g[key], expected)) {
      problems.push(`${where}.${key} is ${describe(g[key])}, the optimizer has ${describe(expected)} (fixed at construction)`);
    }
  }
  const own = spec.groups[gi];
  if (!Array.isArray(g.params)) {
    problems.push(`${where}.params must be an array of indices`);
    return;
  }
  if (g.params.length !== own.length) {
    problems.push(`${where} has ${g.params.length} parameters, the optimizer's group ${gi} has ${own.length}`);
    return;
  }
  g.params.forEach((index, k) => {
    if (!Number.isSafeInteger(index) || index < 0) problems.push(`${where}.params[${k}] is ${describe(index)}, not an index`);
    else if (byIndex.has(index)) problems.push(`index ${index} appears more than once in param_groups`);
    else byIndex.set(index, own[k]);
  });
}

function checkEntry(entry: ParamState, index: number, p: Parameter, spec: StateSpec, problems: string[]): void {
  const where = `state for index ${index}`;
  if (typeof entry !== 'object' || entry === null) {
    problems.push(`${where} must be an object`);
    return;
  }
  const allowed = new Set([...spec.tensorKeys, ...spec.counterKeys]);
  for (const key of Object.keys(entry)) if (!allowed.has(key)) problems.push(`${where}: unexpected key ${key}`);
  for (const key of spec.tensorKeys) {
    const t = entry[key];
    if (t === undefined) problems.push(`${where}: missing ${key}`);
    else if (typeof t === 'number' || typeof (t as Tensor).bufferFor !== 'function') problems.push(`${where}: ${key} must be a Tensor, got ${describe(t)}`);
    else if (t.dtype !== 'float32') problems.push(`${where}: ${key} has dtype ${t.dtype}, expected float32`);
    else if (!sameShape(t.shape, p.shape)) {
      problems.push(`${where}: ${key} has shape ${shapeToString(t.shape)}, the parameter has shape ${shapeToString(p.shape)}`);
    } else if (t.disposed) problems.push(`${where}: ${key} was disposed`);
  }
  for (const key of spec.counterKeys) {
    const v = entry[key];
    if (v === undefined) problems.push(`${where}: missing ${key}`);
    else if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) problems.push(`${where}: ${key} must be an integer >= 0, got ${describe(v)}`);
  }
}

/**
 * Splits a state dict for a checkpoint: its tensors under `${prefix}state.<index>.<key>` (the
 * same Tensor objects, no copy) and the JSON-able rest, whose `state` keeps each index with its
 * counters ({} for a state of tensors only) so that the inverse knows every index.
 */
export function optimizerStateToTensors(sd: OptimizerStateDict, prefix = ''): { tensors: Map<string, Tensor>; rest: OptimizerStateJSON } {
  const tensors = new Map<string, Tensor>();
  const state: Record<string, Record<string, number>> = {};
  for (const [index, entry] of sd.state) {
    const counters: Record<string, number> = {};
    for (const [key, value] of Object.entries(entry)) {
      if (typeof value === 'number') counters[key] = value;
      else tensors.set(`${prefix}state.${index}.${key}`, value);
    }
    state[String(index)] = counters;
  }
  const param_groups = sd.param_groups.map((g) => structuredClone({ ...g, params: [...g.params] }));
  return { tensors, rest: { state, param_groups } };
}

/**
 * The inverse of optimizerStateToTensors: rebuilds a state dict from tensors (e.g. read from a
 * safetensors checkpoint; names outside `${prefix}state.` are ignored, so one file can hold the
 * model too) and the JSON rest. Every malformed name or missing index is reported at once.
 * Whether the result fits an optimizer is checked by loadStateDict.
 */
export function optimizerStateFromTensors(tensors: ReadonlyMap<string, Tensor>, rest: OptimizerStateJSON, prefix = ''): OptimizerStateDict {
  const problems: string[] = [];
  if (typeof rest !== 'object' || rest === null) throw new StateDictError('optimizerStateFromTensors: rest must be an object', ['rest must be an object']);
  if (!Array.isArray(rest.param_groups)) problems.push('rest.param_groups must be an array');
  if (typeof rest.state !== 'object' || rest.state === null || Array.isArray(rest.state)) problems.push('rest.state must be an object');
  const entries = new Map<number, Record<string, Tensor | number>>();
  for (const [key, counters] of Object.entries(problems.length === 0 ? rest.state : {})) {
    const index = Number(key);
    if (!/^(0|[1-9]\d*)$/.test(key) || !Number.isSafeInteger(index)) {
      problems.push(`rest.state has key ${JSON.stringify(key)}, not a parameter index`);
      continue;
    }
    if (typeof counters !== 'object' || counters === null || Array.isArray(counters)) {
      problems.push(`rest.state[${key}] must be an object of counters`);
      continue;
    }
    entries.set(index, { ...counters });
  }
  const head = `${prefix}state.`;
  for (const [name, t] of tensors) {
    if (!name.startsWith(head)) continue;
    const m = /^(0|[1-9]\d*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(name.slice(head.length));
    if (m === null) {
      problems.push(`tensor ${JSON.stringify(name)} is not named ${head}<index>.<key>`);
      continue;
    }
    const entry = entries.get(Number(m[1]));
    if (entry === undefined) problems.push(`tensor ${JSON.stringify(name)}: index ${m[1]} is not in rest.state`);
    else if (m[2] in entry) problems.push(`tensor ${JSON.stringify(name)}: rest.state[${m[1]}] also has ${m[2]}`);
    else entry[m[2]] = t;
  }
  if (problems.length > 0) {
    throw new StateDictError(`optimizerStateFromTensors: invalid optimizer state:\n  ${problems.join('\n  ')}`, problems);
  }
  const param_groups = rest.param_groups.map((g) => structuredClone(g));
  return { state: new Map([...entries].sort((a, b) => a[0] - b[0])), param_groups };
}

function sameOption(a: unknown, b: GroupOption): boolean {
  if (Array.isArray(b)) return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function describe(v: unknown): string {
  if (v !== null && typeof v === 'object' && 'shape' in v) return `a tensor of shape ${shapeToString((v as Tensor).shape)}`;
  return JSON.stringify(v) ?? String(v);
}
