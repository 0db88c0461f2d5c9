// Shared by sgd.test.ts and adamw.test.ts: loads a torch.optim fixture of test/fixtures/optim
// (scripts/fixtures/gen-optim-fixtures.py; format in that folder's README), builds the parameters
// and the two group layouts (lr_i = eta_i * lr as one group per tensor, or eta via setEta), feeds
// the stored gradients, and round-trips optimizer state through the checkpoint form.
import * as path from 'node:path';
import { parseSafetensors, serializeSafetensors, toFloat32Array, type TensorInput } from '../../src/io/safetensors';
import { Parameter } from '../../src/nn/parameter';
import type { Optimizer, ParamsInput } from '../../src/optim/optimizer';
import { optimizerStateFromTensors, optimizerStateToTensors, type OptimizerStateDict, type OptimizerStateJSON, type ParamGroupState } from '../../src/optim/state';
import { Tensor } from '../../src/tensor';
import { FIXTURES, loadFixture, type Fixture } from '../helpers/fixtures';

export interface OptimCase {
  fx: Fixture;
  options: Record<string, number | boolean | number[]>;
  eta: number[];
  noDecayGroup: number;
  steps: number;
  shapes: number[][];
  paramGroups: ParamGroupState[];
  stateSteps: Record<string, number>;
}

export function loadCase(name: string): OptimCase {
  const fx = loadFixture(path.join(FIXTURES, 'optim', `${name}.safetensors`));
  const m = (key: string): unknown => JSON.parse(fx.metadata[key]);
  return {
    fx,
    options: m('options') as OptimCase['options'],
    eta: m('eta') as number[],
    noDecayGroup: m('no_decay_group') as number,
    steps: m('steps') as number,
    shapes: m('shapes') as number[][],
    paramGroups: m('param_groups') as ParamGroupState[],
    stateSteps: m('state_steps') as Record<string, number>,
  };
}

/** Fresh parameters holding the fixture's initial values. */
export function makeParams(c: OptimCase): Parameter[] {
  return c.shapes.map((shape, i) => {
    const p = new Parameter(shape, 'other');
    p.copyFromHost(c.fx.floats(`param.${i}`));
    return p;
  });
}

/**
 * 'groups': one group per tensor with lr = eta_i * lr (as the torch fixture). 'eta': the typical
 * layout — a decay group and a no-decay group at the base lr — with eta_i set by setEta.
 */
export function build<O extends Optimizer>(
  c: OptimCase,
  params: Parameter[],
  layout: 'groups' | 'eta',
  make: (groups: ParamsInput, lr: number, weightDecay: number) => O,
): O {
  const lr = c.options.lr as number;
  const wd = (c.options.weight_decay as number | undefined) ?? 0;
  if (layout === 'groups') {
    return make(params.map((p, i) => ({ params: [p], lr: c.eta[i] * lr, weightDecay: i === c.noDecayGroup ? 0 : wd })), lr, wd);
  }
  const decay = params.filter((_, i) => i !== c.noDecayGroup);
  const opt = make([{ params: decay }, { params: [params[c.noDecayGroup]], weightDecay: 0 }], lr, wd);
  opt.setEta(new Map(params.map((p, i) => [p, c.eta[i]])));
  return opt;
}

/** Sets each parameter's gradient to the fixture's gradient of step s (skipping `skip`). */
export function setGrads(c: OptimCase, params: Parameter[], s: number, skip: ReadonlySet<number> = new Set()): void {
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = skip.has(i) ? null : Tensor.fromArray(c.fx.floats(`grad.${s}.${i}`), p.shape);
  });
}

/** Runs steps [from, to): stored gradients, then step(); calls check after each step. */
export function run(c: OptimCase, opt: Optimizer, params: Parameter[], from: number, to: number, check?: (s: number) => void): void {
  for (let s = from; s < to; s++) {
    setGrads(c, params, s);
    opt.step();
    check?.(s);
  }
}

export function values(params: Parameter[]): Float32Array[] {
  return params.map((p) => p.toArray() as Float32Array);
}

/** Through the checkpoint form: safetensors bytes + JSON text, then back to a state dict. */
export function viaCheckpoint(sd: OptimizerStateDict): { sd: OptimizerStateDict; names: string[]; json: string; dispose: () => void } {
  const { tensors, rest } = optimizerStateToTensors(sd);
  const inputs: [string, TensorInput][] = [...tensors].map(([n, t]) => [n, { dtype: 'F32', shape: t.shape, data: t.toArray() }]);
  const json = JSON.stringify(rest);
  const parsed = parseSafetensors(serializeSafetensors(inputs));
  const loaded = new Map([...parsed.tensors].map(([n, e]) => [n, Tensor.fromArray(toFloat32Array(e, n), e.shape)]));
  return {
    sd: optimizerStateFromTensors(loaded, JSON.parse(json) as OptimizerStateJSON),
    names: [...tensors.keys()],
    json,
    dispose: () => loaded.forEach((t) => t.dispose()),
  };
}

export function disposeAll(opt: Optimizer, params: Parameter[]): void {
  opt.dispose();
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
    p.dispose();
  }
}
