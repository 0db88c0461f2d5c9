// Tensor: a shape, an element type, a memory format and a device over a reference-counted native
// buffer. Shapes are logical (NCHW for images, as in PyTorch); the memory format says how a 4-D
// tensor lies in memory: 'contiguous' (row-major NCHW) or 'channelsLast' (NHWC, PyTorch's
// torch.channels_last). Element types: float32, bfloat16 and float16 storage, int32 labels and
// uint8 pixels. Ops live in autograd/ops/ (the functional API is src/functional.ts). Memory is
// released by dispose() or scope() (see memory.ts), never by the garbage collector alone.
import { deviceId, type Device } from './device';
import { ArgumentError, DTypeError, DeviceError, DisposedError, ShapeError } from './errors';
import { Storage, track, type Disposable } from './memory';
import { addon, kernels, type NativeBuffer } from './native/addon';
import type { GradNode } from './autograd/tape';
import * as tape from './autograd/tape';
import * as shapeOps from './autograd/ops/shape';
import * as convertOps from './autograd/ops/convert';
import * as concatOps from './autograd/ops/concat';

export type DType = 'float32' | 'bfloat16' | 'float16' | 'int32' | 'uint8';
export type FloatDType = 'float32' | 'bfloat16' | 'float16';
export type MemoryFormat = 'contiguous' | 'channelsLast';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { float32: 4, bfloat16: 2, float16: 2, int32: 4, uint8: 1 };

export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'bfloat16' || dtype === 'float16';
}

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
  /** 'channelsLast' (NHWC in memory) for 4-D tensors; default 'contiguous'. */
  memoryFormat?: MemoryFormat;
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
  private currentDevice: Device;
  /** How a 4-D tensor lies in memory: row-major NCHW ('contiguous') or NHWC ('channelsLast'). */
  readonly memoryFormat: MemoryFormat;
  /** Set for leaves whose gradient is wanted (parameters) and for outputs of recorded ops. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when recorded by autograd. */
  gradFn: GradNode | null = null;
  private storage: Storage | null;

  constructor(storage: Storage, shape: readonly number[], dtype: DType, device: Device, memoryFormat: MemoryFormat = 'contiguous') {
    if (memoryFormat === 'channelsLast' && shape.length !== 4) {
      storage.release();
      throw new ShapeError(`channelsLast: only 4-D tensors have a channels-last format, got shape ${shapeToString(shape)}`);
    }
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.currentDevice = device;
    this.memoryFormat = memoryFormat;
    track(this);
  }

  /** Allocates device memory for a tensor of this shape and type. */
  static allocate(shape: readonly number[], dtype: DType, device: Device): Storage {
    checkShape(shape, 'empty');
    return new Storage(new addon.NativeBuffer(deviceId(device), numelOf(shape) * DTYPE_BYTES[dtype]));
  }

  /** Uninitialized tensor (contents unspecified). */
  static empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const dtype = options.dtype ?? 'float32';
    const device = options.device ?? 'cpu';
    const t = new Tensor(Tensor.allocate(shape, dtype, device), shape, dtype, device, options.memoryFormat ?? 'contiguous');
    t.requiresGrad = options.requiresGrad ?? false;
    return t;
  }

  /** An uninitialized tensor with this one's dtype, device and memory format (PyTorch's empty_like). */
  static emptyLike(x: Tensor, options: TensorOptions = {}): Tensor {
    return Tensor.empty(x.shape, {
      dtype: options.dtype ?? x.dtype,
      device: options.device ?? x.device,
      memoryFormat: options.memoryFormat ?? x.memoryFormat,
    });
  }

  static full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
    const t = Tensor.empty(shape, options);
    kernels.fill(t.buffer, t.dtype, value, t.numel);
    return t;
  }

  static zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 0, options);
  }

  static ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 1, options);
  }

  /**
   * Copies host values (in logical, row-major order) into a new tensor; shape defaults to
   * [data.length]. bfloat16 / float16 values are rounded to nearest even on the device.
   */
  static fromArray(data: ArrayLike<number>, shape?: readonly number[], options: TensorOptions = {}): Tensor {
    const dims = shape ?? [data.length];
    if (numelOf(dims) !== data.length) {
      throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${shapeToString(dims)}`);
    }
    const dtype = options.dtype ?? 'float32';
    const format = options.memoryFormat ?? 'contiguous';
    if (dtype === 'bfloat16' || dtype === 'float16' || format !== 'contiguous') {
      const staged = Tensor.fromArray(data, dims, { device: options.device, dtype: isFloatDType(dtype) ? 'float32' : dtype });
      try {
        const t = convertRaw(staged, dtype, format);
        t.requiresGrad = options.requiresGrad ?? false;
        return t;
      } finally {
        staged.dispose();
      }
    }
    const t = Tensor.empty(dims, options);
    const host =
      t.dtype === 'float32' ? Float32Array.from(data) : t.dtype === 'int32' ? Int32Array.from(data) : Uint8Array.from(data);
    t.copyFromHost(host);
    return t;
  }

  /** The device holding this tensor's memory. */
  get device(): Device {
    return this.currentDevice;
  }

  /**
   * Moves this tensor's memory to `device` in place (Module.to): new memory there, the values
   * copied through the host, the old memory released. Views made before keep the old memory.
   */
  moveTo_(device: Device): this {
    if (device === this.currentDevice) return this;
    const bytes = this.numel * DTYPE_BYTES[this.dtype];
    const moved = Tensor.allocate(this.shape, this.dtype, device);
    try {
      const host = new Uint8Array(bytes);
      kernels.copy_to_host(host, this.bufferFor('to'), bytes);
      kernels.copy_from_host(moved.buffer, host, bytes);
    } catch (e) {
      moved.release();
      throw e;
    }
    this.storage!.release();
    this.storage = moved;
    this.currentDevice = device;
    return this;
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

  /**
   * A tensor sharing this one's memory with another shape of the same size (no autograd). The
   * memory is read in its physical order: a channels-last tensor must be made contiguous first,
   * except for a view with its own shape (detach).
   */
  viewAs(shape: readonly number[]): Tensor {
    if (numelOf(shape) !== this.numel) {
      throw new ShapeError(`view: cannot view ${shapeToString(this.shape)} as ${shapeToString(shape)}`);
    }
    const same = shape.length === this.shape.length && shape.every((d, i) => d === this.shape[i]);
    if (this.memoryFormat !== 'contiguous' && !same) {
      throw new ShapeError(`view: a channelsLast tensor of shape ${shapeToString(this.shape)} cannot be viewed as ${shapeToString(shape)}; call contiguous() first`);
    }
    this.bufferFor('view');
    return new Tensor(this.storage!.retain(), shape, this.dtype, this.device, same ? this.memoryFormat : 'contiguous');
  }

  /**
   * The same memory read as another shape and format of the same size (no autograd, no copy):
   * a channelsLast (N, C, H, W) tensor is the contiguous (N, H, W, C) it holds, and back.
   */
  reinterpret(shape: readonly number[], memoryFormat: MemoryFormat): Tensor {
    if (numelOf(shape) !== this.numel) {
      throw new ShapeError(`reinterpret: cannot read ${shapeToString(this.shape)} as ${shapeToString(shape)}`);
    }
    this.bufferFor('reinterpret');
    return new Tensor(this.storage!.retain(), shape, this.dtype, this.device, memoryFormat);
  }

  /** Same memory, cut from the autograd graph. */
  detach(): Tensor {
    return this.viewAs(this.shape);
  }

  get isFloatingPoint(): boolean {
    return isFloatDType(this.dtype);
  }

  /**
   * Converts to another dtype and/or memory format (recorded by autograd: the gradient converts
   * back), or returns this tensor when nothing changes, as PyTorch's tensor.to(...).
   */
  to(target: DType | { dtype?: DType; memoryFormat?: MemoryFormat }): Tensor {
    const options = typeof target === 'string' ? { dtype: target } : target;
    return convertOps.convert(this, options.dtype ?? this.dtype, options.memoryFormat ?? this.memoryFormat);
  }

  /** This tensor in the contiguous (NCHW) format; itself when it already is. */
  contiguous(): Tensor {
    return this.to({ memoryFormat: 'contiguous' });
  }

  /** Releases this tensor's reference to its memory (idempotent). */
  dispose(): void {
    if (this.storage === null) return;
    this.storage.release();
    this.storage = null;
    this.gradFn = null;
  }

  /** Copies raw host bytes in this tensor's dtype and physical order (bfloat16 as Uint16Array bits). */
  copyFromHost(data: Float32Array | Int32Array | Uint8Array | Uint16Array): void {
    const bytes = this.numel * DTYPE_BYTES[this.dtype];
    if (data.byteLength !== bytes) {
      throw new ShapeError(`copyFromHost: ${data.byteLength} bytes for a ${this.dtype} tensor of shape ${shapeToString(this.shape)}`);
    }
    kernels.copy_from_host(this.bufferFor('copyFromHost'), data, bytes);
  }

  /**
   * Copies the values to the host in logical (row-major NCHW) order (waits for the device).
   * bfloat16 and float16 values come back as a Float32Array.
   */
  toArray(): Float32Array | Int32Array | Uint8Array {
    if (this.memoryFormat !== 'contiguous' || this.dtype === 'bfloat16' || this.dtype === 'float16') {
      const staged = convertRaw(this, isFloatDType(this.dtype) ? 'float32' : this.dtype, 'contiguous');
      try {
        return staged.toArray();
      } finally {
        staged.dispose();
      }
    }
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

  /** x.narrow(dim, start, length) as a copy (recorded by autograd). */
  slice(dim: number, start: number, length: number): Tensor {
    return concatOps.narrow(this, dim, start, length);
  }

  /** Returns a copy with its own memory (recorded by autograd). */
  clone(): Tensor {
    return shapeOps.clone(this);
  }

  toString(): string {
    const format = this.memoryFormat === 'contiguous' ? '' : `, memoryFormat=${this.memoryFormat}`;
    return `Tensor(shape=${shapeToString(this.shape)}, dtype=${this.dtype}, device=${this.device}${format})`;
  }
}

/**
 * A new tensor holding x's values in `dtype` and `format`, without autograd (the kernels behind
 * Tensor.to, toArray and fromArray). Always allocates, even when nothing changes.
 */
export function convertRaw(x: Tensor, dtype: DType, format: MemoryFormat): Tensor {
  const src = x.bufferFor('to');
  let current: Tensor = x;
  let owned: Tensor | null = null;
  if (x.memoryFormat !== format) {
    const [n, c, h, w] = x.shape;
    // Physical NCHW -> NHWC is permute (0, 2, 3, 1) of (N, C, H, W); back is (0, 3, 1, 2) of (N, H, W, C).
    const [shape, perm] = format === 'channelsLast' ? [[n, c, h, w], [0, 2, 3, 1]] : [[n, h, w, c], [0, 3, 1, 2]];
    owned = Tensor.empty(x.shape, { dtype: x.dtype, device: x.device, memoryFormat: format });
    kernels.permute(owned.buffer, src, x.dtype, x.numel, 4, shape, perm);
    current = owned;
  }
  if (current.dtype === dtype) {
    if (owned !== null) return owned;
    const copy = Tensor.empty(x.shape, { dtype, device: x.device, memoryFormat: format });
    kernels.copy_bytes(copy.buffer, src, x.numel * DTYPE_BYTES[dtype]);
    return copy;
  }
  const y = Tensor.empty(x.shape, { dtype, device: x.device, memoryFormat: format });
  kernels.cast(y.buffer, current.buffer, dtype, current.dtype, x.numel);
  owned?.dispose();
  return y;
}

/** Validates that `t` is a floating-point tensor (float32, bfloat16 or float16), naming `op` and the argument otherwise. */
export function requireFloat(t: Tensor, op: string, name: string): void {
  if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: ${name} must be a Tensor`);
  if (!isFloatDType(t.dtype)) {
    throw new DTypeError(`${op}: ${name} must be a floating-point tensor (float32, bfloat16, float16), got ${t.dtype} of shape ${shapeToString(t.shape)}`);
  }
}

/** Validates that `t` is float32 (ops and arguments that only take float32), naming `op` and the argument otherwise. */
export function requireFloat32(t: Tensor, op: string, name: string): void {
  if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: ${name} must be a Tensor`);
  if (t.dtype !== 'float32') {
    throw new DTypeError(`${op}: ${name} must be float32, got ${t.dtype} of shape ${shapeToString(t.shape)}`);
  }
}

/** Validates that `t` is in the contiguous format (ops without a channels-last path). */
export function requireContiguous(t: Tensor, op: string, name: string): void {
  if (t.memoryFormat !== 'contiguous') {
    throw new ShapeError(`${op}: ${name} of shape ${shapeToString(t.shape)} is channelsLast; this op takes contiguous tensors (call contiguous())`);
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
