// The autograd tape. Each recorded op attaches a GradNode to its output: the inputs and a backward
// function from the output's gradient to the inputs' gradients. backward() walks the nodes in
// reverse topological order, accumulates leaf gradients into `.grad` (kept outside any scope, as
// PyTorch keeps them), frees intermediate gradients as soon as they are consumed, and releases the
// graph (retain_graph=False semantics). noGrad() disables recording.
import { ArgumentError, ShapeError } from '../errors';
import { keep } from '../memory';
import { kernels } from '../native/addon';
import { Tensor, convertRaw, shapeToString } from '../tensor';

export interface GradNode {
  /** The op's name, for error messages. */
  readonly name: string;
  readonly inputs: readonly (Tensor | null)[];
  /** Gradients w.r.t. inputs (null where none); may return gradOutput itself (pass-through). */
  backward(gradOutput: Tensor): (Tensor | null)[];
  /** Tensors the node created and saved for backward; disposed when the graph is released. */
  readonly owned: readonly Tensor[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording ops (evaluation, the optimizer step, the probe's bookkeeping). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Records `output` as produced by op `name` from `inputs` when any input requires a gradient;
 * otherwise disposes `owned` at once (nothing will read them). Returns output.
 */
export function record(
  output: Tensor,
  name: string,
  inputs: readonly (Tensor | null)[],
  backward: (gradOutput: Tensor) => (Tensor | null)[],
  owned: readonly Tensor[] = [],
): Tensor {
  if (!gradEnabled || !inputs.some((t) => t !== null && t.requiresGrad)) {
    for (const t of owned) t.dispose();
    return output;
  }
  output.requiresGrad = true;
  output.gradFn = { name, inputs, backward, owned };
  return output;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS (deep networks would overflow a recursive one).
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const input of t.gradFn?.inputs ?? []) {
      if (input !== null && input.gradFn !== null && !visited.has(input)) stack.push([input, false]);
    }
  }
  return order;
}

/**
 * The gradient in its tensor's dtype and memory format (PyTorch's invariant: grad is like its
 * tensor). Ops keep it, so this converts only at an op that changed them; frees g when it does.
 */
function alignGrad(g: Tensor, like: Tensor): Tensor {
  if (g.dtype === like.dtype && g.memoryFormat === like.memoryFormat) return g;
  const aligned = convertRaw(g, like.dtype, like.memoryFormat);
  g.dispose();
  return aligned;
}

function addInto(target: Tensor, g: Tensor): void {
  if (target.numel !== g.numel) {
    throw new ShapeError(`backward: gradient of shape ${shapeToString(g.shape)} for a tensor of shape ${shapeToString(target.shape)}`);
  }
  if (g.dtype !== target.dtype || g.memoryFormat !== target.memoryFormat) {
    const aligned = convertRaw(g, target.dtype, target.memoryFormat);
    kernels.add_forward(target.buffer, target.buffer, aligned.buffer, target.dtype, 1, 1, target.numel);
    aligned.dispose();
    return;
  }
  kernels.add_forward(target.buffer, target.buffer, g.buffer, target.dtype, 1, 1, target.numel);
}

/** Backpropagates from `root`; `grad` defaults to 1 for a one-element root. */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new ArgumentError('backward: tensor does not require grad and has no grad_fn');
  if (grad === undefined && root.numel !== 1) {
    throw new ShapeError(`backward: grad can be implicitly created only for scalar outputs, got shape ${shapeToString(root.shape)}`);
  }
  const seed = noGrad(() => (grad === undefined ? Tensor.ones(root.shape, { dtype: root.dtype, device: root.device }) : grad.clone()));
  if (root.gradFn === null) {
    if (root.grad === null || root.grad.disposed) root.grad = keep(seed);
    else {
      addInto(root.grad, seed);
      seed.dispose();
    }
    return;
  }
  const pending = new Map<Tensor, Tensor>([[root, seed]]);
  const order = topologicalOrder(root);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const node = t.gradFn!;
      const pendingGrad = pending.get(t);
      pending.delete(t);
      if (pendingGrad !== undefined) {
        const g = alignGrad(pendingGrad, t);
        const results = node.backward(g);
        // Tensors stored (as a leaf's .grad or a pending gradient) must not be freed or reused.
        const stored = new Set<Tensor>();
        const own = (gi: Tensor): Tensor => {
          const v = gi === g || stored.has(gi) ? gi.clone() : gi;
          stored.add(v);
          return v;
        };
        node.inputs.forEach((input, i) => {
          const gi = results[i];
          if (input === null || gi === null || gi === undefined || !input.requiresGrad) return;
          if (input.gradFn === null) {
            if (input.grad === null || input.grad.disposed) {
              const mismatched = gi.dtype !== input.dtype || gi.memoryFormat !== input.memoryFormat;
              input.grad = keep(mismatched ? convertRaw(gi, input.dtype, input.memoryFormat) : own(gi));
              input.grad.requiresGrad = false;
            } else {
              addInto(input.grad, gi);
            }
            return;
          }
          const previous = pending.get(input);
          if (previous === undefined) pending.set(input, own(gi));
          else addInto(previous, gi);
        });
        for (const r of new Set(results)) if (r && r !== g && !stored.has(r)) r.dispose();
        g.dispose();
      }
      for (const o of node.owned) o.dispose();
      t.gradFn = null;
    }
  });
}
