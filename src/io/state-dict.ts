// State dicts <-> safetensors files, with PyTorch's conventions so weights move both ways:
// float32 tensors as F32; int32 counters (BatchNorm's num_batches_tracked) as I64 as PyTorch
// stores them. Loading converts F16/BF16/F64 to float32 and integer types to int32.
import { ArgumentError } from '../errors';
import { Tensor } from '../tensor';
import {
  readSafetensors, serializeSafetensors, toFloat32Array, toInt32Array, writeSafetensors,
  type TensorEntry, type TensorInput,
} from './safetensors';

/** Host copies of tensors in safetensors form (int32 widened to I64). */
export function toSafetensorsInputs(tensors: ReadonlyMap<string, Tensor>): Map<string, TensorInput> {
  const out = new Map<string, TensorInput>();
  for (const [name, t] of tensors) {
    const values = t.toArray();
    if (t.dtype === 'float32') out.set(name, { dtype: 'F32', shape: t.shape, data: values });
    else if (t.dtype === 'int32') out.set(name, { dtype: 'I64', shape: t.shape, data: BigInt64Array.from(values as Int32Array, (v) => BigInt(v)) });
    else out.set(name, { dtype: 'U8', shape: t.shape, data: values });
  }
  return out;
}

export function saveStateDict(file: string, tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): void {
  writeSafetensors(file, toSafetensorsInputs(tensors), metadata);
}

export function serializeStateDict(tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  return serializeSafetensors(toSafetensorsInputs(tensors), metadata);
}

/** One safetensors entry as a Tensor (floats -> float32, integers and bool -> int32). */
export function entryToTensor(name: string, e: TensorEntry): Tensor {
  if (e.dtype === 'F32' || e.dtype === 'F64' || e.dtype === 'F16' || e.dtype === 'BF16') {
    return Tensor.fromArray(toFloat32Array(e, name), e.shape);
  }
  if (/^(I|U)(8|16|32|64)$/.test(e.dtype) || e.dtype === 'BOOL') return Tensor.fromArray(toInt32Array(e, name), e.shape, { dtype: 'int32' });
  throw new ArgumentError(`state dict: tensor ${name} has unsupported dtype ${e.dtype}`);
}

/** Reads a safetensors file into tensors (the caller owns them) and its metadata; errors name the file. */
export function loadStateDictFile(file: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = readSafetensors(file);
  const out = new Map<string, Tensor>();
  try {
    for (const [name, e] of tensors) out.set(name, entryToTensor(name, e));
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw withFile(e, file);
  }
  return { tensors: out, metadata };
}

/**
 * Runs `load` (a model's or optimizer's loadStateDict of tensors read from `file`); an error it
 * throws keeps its class and code and gets the file in front of its message.
 */
export function loadingFrom<T>(file: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    throw withFile(e, file);
  }
}

/** `e` with `file: ` in front of its message (unless the message already names the file). */
export function withFile(e: unknown, file: string): unknown {
  if (e instanceof Error && !e.message.includes(file)) {
    e.message = `${file}: ${e.message}`;
    const head = `${e.name}: `;
    if (e.stack?.startsWith(head)) e.stack = `${head}${file}: ${e.stack.slice(head.length)}`;
  }
  return e;
}
