// Tensor: a shape, an element type and a device over a reference-counted native buffer.
// Tensors are contiguous and row-major; ops live in autograd/ops/ (the functional API is
// src/functional.ts). Memory is released by dispose() or scope() (see memory.ts), never by the
// garbage collector alone.
import { DEVICE_IDS, type Device } from './device';
import { ArgumentError, DTypeError, DeviceError, DisposedError, ShapeError } from './errors';
import { Storage, track, type Disposable } from './memory';
import { addon, kernels, type NativeBuffer } from './native/addon';
import type { GradNode } from './autograd/tape';
import * as tape from './autograd/tape';
import * as shapeOps from './autograd/ops/shape';

export type DType = 'float32' | 'int32' | 'uint8';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { float32: 4, int32: 4, uint8: 1 };

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[], op: string): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${shapeToString(shape)}`);
  }
}

export class Tensor implements Disposable {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  /** Set for leaves whose gradient is wanted (parameters) and for outputs of recorded ops. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when recorded by autograd. */
  gradFn: GradNode | null = null;
  private storage: Storage | null;

  constructor(storage: Storage, shape: readonly number[], dtype: DType, device: Device) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = device;
    track(this);
  }

  /** Allocates device memory for a tensor of this shape and type. */
  static allocate(shape: readonly number[], dtype: DType, device: Device): Storage {
    checkShape(shape, 'empty');
    return new Storage(new addon.NativeBuffer(DEVICE_IDS[device], numelOf(shape) * DTYPE_BYTES[dtype]));
  }

  /** Uninitialized tensor (contents unspecified). */
  static empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const dtype = options.dtype ?? 'float32';
    const device = options.device ?? 'cpu';
    const t = new Tensor(Tensor.allocate(shape, dtype, device), shape, dtype, device);
    t.requiresGrad = options.requiresGrad ?? false;
    return t;
  }

  static full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
    const t = Tensor.empty(shape, options);
    if (t.dtype === 'float32') kernels.fill_f32(t.buffer, value, t.numel);
    else t.copyFromHost(t.dtype === 'int32' ? new Int32Array(t.numel).fill(value) : new Uint8Array(t.numel).fill(value));
    return t;
  }

  static zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 0, options);
  }

  static ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 1, options);
  }

  /** Copies host values into a new tensor; shape defaults to [data.length]. */
  static fromArray(data: ArrayLike<number>, shape?: readonly number[], options: TensorOptions = {}): Tensor {
    const dims = shape ?? [data.length];
    if (numelOf(dims) !== data.length) {
      throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${shapeToString(dims)}`);
    }
    const t = Tensor.empty(dims, options);
    const host =
      t.dtype === 'float32' ? Float32Array.from(data) : t.dtype === 'int32' ? Int32Array.from(data) : Uint8Array.from(data);
    t.copyFromHost(host);
    return t;
  }

  get numel(): number {
    return numelOf(this.shape);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** The native buffer; throws if the tensor was disposed. */
  get buffer(): NativeBuffer {
    return this.bufferFor('tensor access');
  }

  /** The native buffer, with `op` named in the error if the tensor was disposed. */
  bufferFor(op: string): NativeBuffer {
    if (this.storage === null) {
      throw new DisposedError(`${op}: tensor of shape ${shapeToString(this.shape)} was disposed`);
    }
    return this.storage.buffer;
  }

  /** A tensor sharing this one's memory with another shape of the same size (no autograd). */
  viewAs(shape: readonly number[]): Tensor {
    if (numelOf(shape) !== this.numel) {
      throw new ShapeError(`view: cannot view ${shapeToString(this.shape)} as ${shapeToString(shape)}`);
    }
    this.bufferFor('view');
    return new Tensor(this.storage!.retain(), shape, this.dtype, this.device);
  }

  /** Same memory, cut from the autograd graph. */
  detach(): Tensor {
    return this.viewAs(this.shape);
  }

  /** Releases this tensor's reference to its memory (idempotent). */
  dispose(): void {
    if (this.storage === null) return;
    this.storage.release();
    this.storage = null;
    this.gradFn = null;
  }

  copyFromHost(data: Float32Array | Int32Array | Uint8Array): void {
    const bytes = this.numel * DTYPE_BYTES[this.dtype];
    if (data.byteLength !== bytes) {
      throw new ShapeError(`copyFromHost: ${data.byteLength} bytes for a ${this.dtype} tensor of shape ${shapeToString(this.shape)}`);
    }
    kernels.copy_from_host(this.bufferFor('copyFromHost'), data, bytes);
  }

  /** Copies the values to the host (waits for the device). */
  toArray(): Float32Array | Int32Array | Uint8Array {
    const buf = this.bufferFor('toArray');
    const out =
      this.dtype === 'float32'
        ? new Float32Array(this.numel)
        : this.dtype === 'int32'
          ? new Int32Array(this.numel)
          : new Uint8Array(this.numel);
    kernels.copy_to_host(out, buf, out.byteLength);
    return out;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new ShapeError(`item: tensor of shape ${shapeToString(this.shape)} has ${this.numel} elements`);
    return this.toArray()[0];
  }

  /** Backpropagates from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor): void {
    tape.backward(this, grad);
  }

  reshape(shape: readonly number[]): Tensor {
    return shapeOps.reshape(this, shape);
  }

  flatten(startDim = 0, endDim = -1): Tensor {
    return shapeOps.flatten(this, startDim, endDim);
  }

  permute(dims: readonly number[]): Tensor {
    return shapeOps.permute(this, dims);
  }

  /** Returns a copy with its own memory (recorded by autograd). */
  clone(): Tensor {
    return shapeOps.clone(this);
  }

  toString(): string {
    return `Tensor(shape=${shapeToString(this.shape)}, dtype=${this.dtype}, device=${this.device})`;
  }
}

/** Validates that `t` is a float32 tensor, naming `op` and the argument otherwise. */
export function requireFloat(t: Tensor, op: string, name: string): void {
  if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: ${name} must be a Tensor`);
  if (t.dtype !== 'float32') {
    throw new DTypeError(`${op}: ${name} must be float32, got ${t.dtype} of shape ${shapeToString(t.shape)}`);
  }
}

/** Validates that every tensor is on the same device; returns it. */
export function requireSameDevice(op: string, tensors: Record<string, Tensor | null | undefined>): Device {
  let device: Device | null = null;
  let first = '';
  for (const [name, t] of Object.entries(tensors)) {
    if (!t) continue;
    if (device === null) {
      device = t.device;
      first = name;
    } else if (t.device !== device) {
      throw new DeviceError(`${op}: ${first} is on ${device} but ${name} is on ${t.device}`);
    }
  }
  return device ?? 'cpu';
}
