// Module: the base of every layer and model, with PyTorch's semantics and camelCase names:
// registered parameters, buffers and submodules in registration order; dotted names
// (`layer1.0.conv1.weight`); train/eval; stateDict/loadStateDict (strict, reporting every
// missing, unexpected or mis-shaped key at once); zeroGrad; to(device | { device, memoryFormat })
// as PyTorch's module.to: parameters and buffers move to the device (gradients, optimizer state
// and everything the model creates follow them), and a channels-last model converts its 4-D
// inputs to NHWC (weights keep their (out, in, kh, kw) layout: the kernels take them as they are).
import { ArgumentError, StateDictError } from '../errors';
import { kernels } from '../native/addon';
import type { Device } from '../device';
import { DTYPE_BYTES, Tensor, convertRaw, shapeToString, type MemoryFormat } from '../tensor';
import { isGradEnabled } from '../autograd/tape';
import { keep, scope } from '../memory';
import type { Parameter } from './parameter';

export interface ModuleToOptions {
  device?: Device;
  memoryFormat?: MemoryFormat;
}

export abstract class Module {
  training = true;
  /** The memory format this model runs 4-D activations in (set by to({ memoryFormat })). */
  memoryFormat: MemoryFormat = 'contiguous';
  private readonly params = new Map<string, Parameter | null>();
  private readonly bufs = new Map<string, { tensor: Tensor; persistent: boolean }>();
  private readonly mods = new Map<string, Module>();

  abstract forward(...inputs: Tensor[]): Tensor;

  /**
   * Calls forward (PyTorch's module(x)); a channels-last model first converts 4-D float inputs to
   * NHWC. Without gradients (noGrad: evaluation, the probe's restores) the call is its own scope:
   * the module's intermediates are freed when it returns, not when the caller's scope ends, so an
   * evaluation holds about one block's activations instead of the whole forward's (as PyTorch
   * frees a tensor at its last use). With gradients the tape needs them until backward.
   */
  call(...inputs: Tensor[]): Tensor {
    const run = () => {
      if (this.memoryFormat === 'channelsLast') {
        inputs = inputs.map((x) => (x.ndim === 4 && x.isFloatingPoint ? x.to({ memoryFormat: 'channelsLast' }) : x));
      }
      return this.forward(...inputs);
    };
    return isGradEnabled() ? run() : scope(run);
  }

  /** The device of this module's parameters (of its buffers when it has none; 'cpu' when empty). */
  get device(): Device {
    return (this.parameters()[0] ?? this.buffers()[0])?.device ?? 'cpu';
  }

  /**
   * Moves every parameter and buffer to `device` in place (tensors keep their identity, so an
   * optimizer built before still holds them) and/or sets the memory format activations run in.
   * Gradients are dropped on a move, as they would be stale; build optimizers after moving.
   */
  to(target: Device | ModuleToOptions): this {
    const options = typeof target === 'string' ? { device: target } : target;
    if (options.memoryFormat !== undefined) for (const [, m] of this.namedModules()) m.memoryFormat = options.memoryFormat;
    if (options.device !== undefined && options.device !== this.device) {
      this.zeroGrad();
      for (const t of [...this.parameters(), ...this.buffers()]) t.moveTo_(options.device);
    }
    return this;
  }

  protected registerParameter<P extends Parameter | null>(name: string, p: P): P {
    this.checkName(name);
    this.params.set(name, p);
    return p;
  }

  protected registerBuffer(name: string, t: Tensor, persistent = true): Tensor {
    this.checkName(name);
    this.bufs.set(name, { tensor: keep(t), persistent });
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this.mods.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (name.length === 0 || name.includes('.')) throw new ArgumentError(`Module: invalid member name '${name}'`);
    if (this.params.has(name) || this.bufs.has(name) || this.mods.has(name)) {
      throw new ArgumentError(`Module: '${name}' is already registered`);
    }
  }

  /** Replaces a buffer's tensor (disposing the old one). */
  protected setBuffer(name: string, t: Tensor): void {
    const entry = this.bufs.get(name);
    if (!entry) throw new ArgumentError(`Module: no buffer '${name}'`);
    if (entry.tensor !== t) entry.tensor.dispose();
    entry.tensor = keep(t);
  }

  protected buffer(name: string): Tensor {
    const entry = this.bufs.get(name);
    if (!entry) throw new ArgumentError(`Module: no buffer '${name}'`);
    return entry.tensor;
  }

  *namedChildren(): Generator<[string, Module]> {
    yield* this.mods.entries();
  }

  children(): Module[] {
    return [...this.mods.values()];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.mods) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  /** Parameters with dotted names, in PyTorch's order (own first, then children), without duplicates. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.params) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.bufs) out.push([prefix ? `${prefix}.${name}` : name, b.tensor]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Hook: writes host-side state (e.g. BatchNorm's batch counter) into its buffers before they are read. */
  protected syncBuffers(): void {}

  /** Hook: reads host-side state back from its buffers after they were loaded. */
  protected buffersLoaded(): void {}

  /** Parameters and persistent buffers by dotted name (the live tensors, not copies). */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      m.syncBuffers();
      const key = (name: string) => (prefix ? `${prefix}.${name}` : name);
      for (const [name, p] of m.params) if (p !== null) out.set(key(name), p);
      for (const [name, b] of m.bufs) if (b.persistent) out.set(key(name), b.tensor);
    }
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers. With strict (the default) every
   * missing key, unexpected key and shape or dtype mismatch is reported in one StateDictError;
   * nothing is modified unless all checks pass.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, strict = true): { missingKeys: string[]; unexpectedKeys: string[] } {
    const own = this.stateDict();
    const problems: string[] = [];
    const missingKeys = [...own.keys()].filter((k) => !state.has(k));
    const unexpectedKeys = [...state.keys()].filter((k) => !own.has(k));
    for (const [key, target] of own) {
      const source = state.get(key);
      if (source === undefined) continue;
      if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
        problems.push(`size mismatch for ${key}: copying a param with shape ${shapeToString(source.shape)}, the shape in the current model is ${shapeToString(target.shape)}`);
      } else if (source.dtype !== target.dtype) {
        problems.push(`dtype mismatch for ${key}: got ${source.dtype}, the model has ${target.dtype}`);
      }
    }
    if (strict) {
      for (const k of missingKeys) problems.push(`missing key: ${k}`);
      for (const k of unexpectedKeys) problems.push(`unexpected key: ${k}`);
    }
    if (problems.length > 0) {
      throw new StateDictError(`Error(s) in loading state dict for ${this.constructor.name}:\n  ${problems.join('\n  ')}`, problems);
    }
    for (const [key, target] of own) {
      const source = state.get(key);
      if (source === undefined || source === target) continue;
      copyInto(target, source);
    }
    this.reloadHostState();
    return { missingKeys, unexpectedKeys };
  }

  /** Re-reads host-side state from the buffers (after they were written by other means than loadStateDict). */
  reloadHostState(): void {
    for (const [, m] of this.namedModules()) m.buffersLoaded();
  }

  /** Drops every parameter's gradient (set_to_none=True, PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Releases every parameter, gradient and buffer of this module tree. */
  dispose(): void {
    this.zeroGrad();
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }
}

/** Copies source's values into target (same shape and dtype), across devices and memory formats. */
function copyInto(target: Tensor, source: Tensor): void {
  const bytes = target.numel * DTYPE_BYTES[target.dtype];
  // Another format: converted first (on the source's device).
  const staged = source.memoryFormat === target.memoryFormat ? null : convertRaw(source, source.dtype, target.memoryFormat);
  const from = staged ?? source;
  try {
    if (from.device === target.device) {
      kernels.copy_bytes(target.bufferFor('loadStateDict'), from.bufferFor('loadStateDict'), bytes);
    } else {
      // Another device: through the host (a load, not a training step).
      const host = new Uint8Array(bytes);
      kernels.copy_to_host(host, from.bufferFor('loadStateDict'), bytes);
      kernels.copy_from_host(target.bufferFor('loadStateDict'), host, bytes);
    }
  } finally {
    staged?.dispose();
  }
}
