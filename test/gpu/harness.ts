// The contract-driven kernel harness behind the CUDA-vs-CPU suite (test/gpu/kernels.gpu.test.ts)
// and its CPU self-check (test/gpu/cases.test.ts). A case names a kernel, its size and option
// arguments and, where random data would be invalid, how to make an input; everything else is
// derived from kernels.h through the contract parser (scripts/contract/parse-kernels.mjs): the
// parameter order, which pointers are buffers, their element counts (the shape comments evaluated
// over the case's arguments) and element types. Inputs are generated once as float32, converted
// to the buffer's dtype on the CPU, and the same bytes are uploaded to every device, so both
// backends see identical bits. Output buffers start from the same random bytes too, so kernels
// that accumulate (or keep part of their output) are compared as well.
import * as path from 'node:path';
import { addon, type NativeBuffer } from '../../src/native/addon';
import { randn } from '../helpers/random';

export type DTypeName = 'float32' | 'bfloat16' | 'float16' | 'int32' | 'uint8';
export type FloatDTypeName = 'float32' | 'bfloat16' | 'float16';

interface Param {
  name: string;
  kind: 'buffer' | 'bufferList' | 'hostArray' | 'hostBytes' | 'scalar';
  dtype?: string;
  cType?: string;
  mutable?: boolean;
  optional?: boolean;
  shape: string[] | null;
  dtypeParam?: string;
}

export interface KernelDecl {
  name: string;
  family: string;
  params: Param[];
  internal: boolean;
}

/** Values of a case: sizes and options by parameter name; host arrays as number arrays. */
export type CaseArgs = Record<string, number | boolean | string | number[]>;

export interface KernelCase {
  kernel: string;
  /** Names the configuration in the test title, e.g. 'nhwc 3x3 s2'. */
  label: string;
  args: CaseArgs;
  /** The float dtypes to run (default: all three where the kernel has a dtype parameter). */
  dtypes?: readonly FloatDTypeName[];
  /** Per buffer (or buffer list): the float32 values of each element count (default normal(0, 1)). */
  inputs?: Record<string, (n: number, seed: number, args: CaseArgs) => ArrayLike<number>>;
  /** Buffer lists: element counts of each tensor (default host_numels). */
  listNumels?: Record<string, number[]>;
  /** Buffer lists passed as empty (optional lists such as momentum_buffers without momentum). */
  emptyLists?: readonly string[];
  /** Looser tolerance factor for this case (e.g. 10 for long reductions in float16). */
  tolScale?: number;
  /** TF32 may be used on the GPU (GEMMs and convolutions in float32). */
  tf32?: boolean;
}

let contract: KernelDecl[] | null = null;

/** kernels.h, parsed (cached). */
export async function loadContract(): Promise<KernelDecl[]> {
  if (contract) return contract;
  const root = path.join(__dirname, '..', '..');
  const parser = (await import(path.join(root, 'scripts', 'contract', 'parse-kernels.mjs'))) as {
    readContract(dir: string): string;
    parseKernels(text: string): KernelDecl[];
  };
  contract = parser.parseKernels(parser.readContract(path.join(root, 'native', 'include')));
  return contract;
}

/** Evaluates a shape comment's expression (e.g. "(batch - 1) * stride_c + m * n") over args. */
export function evalExpr(expr: string, args: CaseArgs): number {
  const names = Object.keys(args).filter((k) => /^[a-z_][a-z0-9_]*$/.test(k));
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = new Function(...names, `return (${expr});`) as (...v: unknown[]) => unknown;
  const value = fn(...names.map((k) => args[k]));
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`shape expression '${expr}' gave ${String(value)} for ${JSON.stringify(args)}`);
  return Math.max(0, Math.floor(value));
}

const BYTES: Record<DTypeName, number> = { float32: 4, bfloat16: 2, float16: 2, int32: 4, uint8: 1 };

function bufferDType(p: Param, args: CaseArgs): DTypeName {
  if (p.dtypeParam) return args[p.dtypeParam] as DTypeName;
  return ({ f32: 'float32', i32: 'int32', u8: 'uint8' } as Record<string, DTypeName>)[p.dtype!];
}

/** One buffer's contents, as generated: the bytes in its dtype. */
interface HostBuffer {
  dtype: DTypeName;
  count: number;
  bytes: Uint8Array;
}

function toBytes(values: ArrayLike<number>, dtype: DTypeName): Uint8Array {
  const n = values.length;
  if (dtype === 'int32') return new Uint8Array(Int32Array.from(values).buffer);
  if (dtype === 'uint8') return Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const f = Float32Array.from(values);
  if (dtype === 'float32') return new Uint8Array(f.buffer);
  // Round on the CPU backend with the cast kernel, so the bits are the kernels' own conversion.
  return castOnCpu(new Uint8Array(f.buffer), 'float32', dtype, n);
}

/** The cast kernel on the CPU backend over host bytes: n values of `from` to `to`, as bytes. */
function castOnCpu(bytes: Uint8Array, from: DTypeName, to: DTypeName, n: number): Uint8Array {
  const src = new addon.NativeBuffer(0, Math.max(n, 1) * BYTES[from]);
  const dst = new addon.NativeBuffer(0, Math.max(n, 1) * BYTES[to]);
  try {
    const out = new Uint8Array(n * BYTES[to]);
    if (n > 0) {
      addon.kernels.copy_from_host(src, bytes, n * BYTES[from]);
      addon.kernels.cast(dst, src, to, from, n);
      addon.kernels.copy_to_host(out, dst, out.byteLength);
    }
    return out;
  } finally {
    src.free();
    dst.free();
  }
}

/** Reads bytes of a dtype back as float64 values (through the CPU cast for 16-bit floats). */
export function fromBytes(bytes: Uint8Array, dtype: DTypeName, count: number): Float64Array {
  const copy = bytes.slice(0, count * BYTES[dtype]);
  if (dtype === 'int32') return Float64Array.from(new Int32Array(copy.buffer));
  if (dtype === 'uint8') return Float64Array.from(copy);
  if (dtype === 'float32') return Float64Array.from(new Float32Array(copy.buffer));
  return Float64Array.from(new Float32Array(castOnCpu(copy, dtype, 'float32', count).buffer));
}

/** The generated inputs of a case at one dtype: every buffer's and list element's bytes. */
export interface CaseData {
  args: CaseArgs;
  buffers: Map<string, HostBuffer>;
  lists: Map<string, HostBuffer[]>;
}

/** Generates the case's data (deterministic in `seed`). */
export function generate(decl: KernelDecl, c: KernelCase, dtype: FloatDTypeName | null, seed = 1): CaseData {
  const args: CaseArgs = { ...c.args };
  for (const p of decl.params) if (p.kind === 'scalar' && p.cType === 'DType' && args[p.name] === undefined && dtype) args[p.name] = dtype;
  const buffers = new Map<string, HostBuffer>();
  const lists = new Map<string, HostBuffer[]>();
  decl.params.forEach((p, i) => {
    const make = c.inputs?.[p.name] ?? ((n: number, s: number) => randn(n, s));
    if (p.kind === 'buffer') {
      const dt = bufferDType(p, args);
      const count = (p.shape ?? ['1']).reduce((acc, e) => acc * evalExpr(e, args), 1);
      buffers.set(p.name, { dtype: dt, count, bytes: toBytes(make(count, seed * 1000 + i, args), dt) });
    } else if (p.kind === 'bufferList') {
      if (c.emptyLists?.includes(p.name)) {
        lists.set(p.name, []);
        return;
      }
      const numels = c.listNumels?.[p.name] ?? (args.host_numels as number[]);
      lists.set(p.name, numels.map((n, t) => ({ dtype: 'float32', count: n, bytes: toBytes(make(n, seed * 1000 + i * 100 + t, args), 'float32') })));
    }
  });
  return { args, buffers, lists };
}

/** The outputs of one run: every mutable buffer and list element, as float64 values. */
export type CaseOutputs = Map<string, Float64Array>;

function upload(device: number, h: HostBuffer, live: NativeBuffer[]): NativeBuffer {
  const buf = new addon.NativeBuffer(device, Math.max(h.bytes.byteLength, 1));
  live.push(buf);
  if (h.bytes.byteLength > 0) addon.kernels.copy_from_host(buf, h.bytes, h.bytes.byteLength);
  return buf;
}

function download(buf: NativeBuffer, h: HostBuffer): Float64Array {
  const bytes = new Uint8Array(h.bytes.byteLength);
  if (bytes.byteLength > 0) addon.kernels.copy_to_host(bytes, buf, bytes.byteLength);
  return fromBytes(bytes, h.dtype, h.count);
}

/** Runs the kernel on `device` (0 CPU, 1 CUDA) over the case's data; returns its outputs. */
export function runOn(device: number, decl: KernelDecl, data: CaseData): CaseOutputs {
  const live: NativeBuffer[] = [];
  try {
    const callArgs: unknown[] = [];
    const outs: { key: string; buf: NativeBuffer; h: HostBuffer }[] = [];
    for (const p of decl.params) {
      if (p.kind === 'buffer') {
        const h = data.buffers.get(p.name)!;
        const buf = upload(device, h, live);
        callArgs.push(buf);
        if (p.mutable) outs.push({ key: p.name, buf, h });
      } else if (p.kind === 'bufferList') {
        const hs = data.lists.get(p.name)!;
        const bufs = hs.map((h) => upload(device, h, live));
        callArgs.push(bufs);
        if (p.mutable) hs.forEach((h, t) => outs.push({ key: `${p.name}[${t}]`, buf: bufs[t], h }));
      } else if (p.kind === 'hostArray') {
        const v = data.args[p.name];
        if (!Array.isArray(v)) throw new Error(`${decl.name}: the case gives no host array ${p.name}`);
        callArgs.push(p.cType === 'int64_t' || p.cType === 'double' ? Float64Array.from(v) : Float32Array.from(v));
      } else if (p.kind === 'scalar') {
        const v = data.args[p.name];
        if (v === undefined) throw new Error(`${decl.name}: the case gives no value for ${p.name}`);
        callArgs.push(v);
      } else {
        throw new Error(`${decl.name}: parameter ${p.name} (${p.kind}) is not run by the harness`);
      }
    }
    const fn = (addon.kernels as unknown as Record<string, (...a: unknown[]) => void>)[decl.name];
    fn(...callArgs);
    const result: CaseOutputs = new Map();
    for (const o of outs) result.set(o.key, download(o.buf, o.h));
    return result;
  } finally {
    for (const b of live) b.free();
  }
}

/** Tolerances per dtype of the CUDA-vs-CPU comparison (TF32 for float32 GEMMs/convolutions). */
export function tolerance(dtype: FloatDTypeName | null, c: KernelCase): { atol: number; rtol: number } {
  const s = c.tolScale ?? 1;
  if (dtype === 'bfloat16') return { atol: 2e-2 * s, rtol: 2e-2 * s };
  if (dtype === 'float16') return { atol: 2e-3 * s, rtol: 2e-3 * s };
  if (c.tf32) return { atol: 1e-2 * s, rtol: 1e-2 * s };
  return { atol: 1e-5 * s, rtol: 1e-5 * s };
}

/** The dtypes a case runs at (null: the kernel has no float dtype parameter). */
export function caseDTypes(decl: KernelDecl, c: KernelCase): (FloatDTypeName | null)[] {
  const hasDType = decl.params.some((p) => p.kind === 'scalar' && p.cType === 'DType' && c.args[p.name] === undefined);
  if (!hasDType) return [null];
  return [...(c.dtypes ?? ['float32', 'bfloat16', 'float16'])];
}
