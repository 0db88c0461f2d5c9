// The element types of the safetensors format and the decoders from a tensor's raw bytes to JS
// numbers (toFloat32Array, toFloat64Array, toInt32Array). Kept apart from the file reader and
// writer (safetensors.ts, which re-exports all of this) because it is about values, not layout.
// Bit layouts: IEEE 754 binary16/32/64; bfloat16 = the top half of a float32; the 8-bit floats
// as in the OCP 8-bit float spec and PyTorch (float8_e4m3fn, float8_e5m2, the *fnuz variants,
// float8_e8m0fnu). All data is little-endian, which typed arrays are on x64 and arm64.

import { ArgumentError, DTypeError } from '../errors';

/** Element types of the format (the reference's `Dtype`), with their size in bits. */
export const DTYPE_BITS = {
  F64: 64, F32: 32, F16: 16, BF16: 16,
  I64: 64, I32: 32, I16: 16, I8: 8,
  U64: 64, U32: 32, U16: 16, U8: 8, BOOL: 8,
  F8_E4M3: 8, F8_E5M2: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8, F8_E8M0: 8,
  F6_E2M3: 6, F6_E3M2: 6, F4: 4, C64: 64,
} as const;
export type SafetensorsDType = keyof typeof DTYPE_BITS;

/** A loaded tensor: `data` is exactly its bytes (little-endian, row-major). */
export interface TensorEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data: Uint8Array;
}

/**
 * Bytes of a tensor of `dtype` and `shape` (exact, as a BigInt), or undefined when a sub-byte
 * dtype (F4, F6_*) does not fill whole bytes, which the reference rejects.
 */
export function tensorBytes(dtype: SafetensorsDType, shape: readonly number[]): bigint | undefined {
  const bits = shape.reduce((acc, d) => acc * BigInt(d), BigInt(DTYPE_BITS[dtype]));
  return bits % 8n === 0n ? bits / 8n : undefined;
}

/**
 * The tensor's values as float64 (a new array). Supports every dtype but F4, F6_* and C64; I64 and
 * U64 values beyond 2^53 are rounded; BOOL gives 0/1.
 */
export function toFloat64Array(entry: TensorEntry, name = 'tensor'): Float64Array {
  const values = decode(entry, name, 'toFloat64Array');
  return values instanceof Float64Array ? values : new Float64Array(values);
}

/** The tensor's values as float32 (a new array), rounded to nearest; dtypes as toFloat64Array. */
export function toFloat32Array(entry: TensorEntry, name = 'tensor'): Float32Array {
  const values = decode(entry, name, 'toFloat32Array');
  return values instanceof Float32Array ? values : new Float32Array(values);
}

/**
 * The tensor's values as int32 (a new array), for integer and BOOL dtypes. Throws DTypeError for
 * float dtypes and for a value outside the int32 range (I64, U32, U64), naming the first one.
 */
export function toInt32Array(entry: TensorEntry, name = 'tensor'): Int32Array {
  const { dtype } = entry;
  if (dtype === 'I64' || dtype === 'U64' || dtype === 'U32') {
    const raw = copy(entry, name, 'toInt32Array');
    const wide = dtype === 'I64' ? new BigInt64Array(raw) : dtype === 'U64' ? new BigUint64Array(raw) : new Uint32Array(raw);
    const out = new Int32Array(wide.length);
    for (let i = 0; i < wide.length; i++) {
      const v = Number(wide[i]);
      if (v < -2147483648 || v > 2147483647) {
        throw new DTypeError(`toInt32Array: ${name} (${dtype}, shape [${entry.shape.join(', ')}]) holds ${wide[i]} `
          + `at flat index ${i}, outside the int32 range`);
      }
      out[i] = v;
    }
    return out;
  }
  if (dtype === 'I32' || dtype === 'I16' || dtype === 'I8' || dtype === 'U16' || dtype === 'U8' || dtype === 'BOOL') {
    const values = decode(entry, name, 'toInt32Array');
    return values instanceof Int32Array ? values : new Int32Array(values);
  }
  throw new DTypeError(`toInt32Array: ${name} has dtype ${dtype}, not an integer type (use toFloat32Array)`);
}

type Numbers = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

/** Decodes into the narrowest typed array that holds the values exactly (a fresh array). */
function decode(entry: TensorEntry, name: string, op: string): Numbers {
  const raw = (): ArrayBuffer => copy(entry, name, op);
  switch (entry.dtype) {
    case 'F64': return new Float64Array(raw());
    case 'F32': return new Float32Array(raw());
    case 'I32': return new Int32Array(raw());
    case 'I16': return new Int16Array(raw());
    case 'I8': return new Int8Array(raw());
    case 'U32': return new Uint32Array(raw());
    case 'U16': return new Uint16Array(raw());
    case 'U8': return new Uint8Array(raw());
    case 'BOOL': return new Uint8Array(raw()).map((b) => (b !== 0 ? 1 : 0));
    case 'I64': return Float64Array.from(new BigInt64Array(raw()), Number);
    case 'U64': return Float64Array.from(new BigUint64Array(raw()), Number);
    case 'BF16': {
      const halves = new Uint16Array(raw());
      const words = new Uint32Array(halves.length);
      for (let i = 0; i < halves.length; i++) words[i] = halves[i] << 16;
      return new Float32Array(words.buffer);
    }
    case 'F16': return lookUp(new Uint16Array(raw()), table('F16'));
    case 'F8_E4M3': case 'F8_E5M2': case 'F8_E4M3FNUZ': case 'F8_E5M2FNUZ': case 'F8_E8M0':
      return lookUp(new Uint8Array(raw()), table(entry.dtype));
    default:
      throw new DTypeError(`${op}: ${name} has dtype ${entry.dtype}, which has no conversion to numbers here`);
  }
}

/** A fresh, aligned copy of the tensor's bytes, after checking their count against the shape. */
function copy(entry: TensorEntry, name: string, op: string): ArrayBuffer {
  const size = tensorBytes(entry.dtype, entry.shape);
  if (size !== BigInt(entry.data.byteLength)) {
    throw new ArgumentError(`${op}: ${name} has ${entry.data.byteLength} bytes, but ${entry.dtype} `
      + `with shape [${entry.shape.join(', ')}] needs ${size ?? 'whole'} bytes`);
  }
  return entry.data.slice().buffer;
}

function lookUp(codes: Uint8Array | Uint16Array, values: Float64Array): Float64Array {
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = values[codes[i]];
  return out;
}

type SmallFloat = 'F16' | 'F8_E4M3' | 'F8_E5M2' | 'F8_E4M3FNUZ' | 'F8_E5M2FNUZ' | 'F8_E8M0';

/** [exponent bits, mantissa bits, bias, special values] of each small float format. */
const SMALL_FLOATS: Record<SmallFloat, [number, number, number, 'ieee' | 'fn' | 'fnuz' | 'e8m0']> = {
  F16: [5, 10, 15, 'ieee'], // IEEE binary16: inf and NaN at the top exponent
  F8_E5M2: [5, 2, 15, 'ieee'],
  F8_E4M3: [4, 3, 7, 'fn'], // "finite": no inf; NaN = all exponent and mantissa bits set
  F8_E4M3FNUZ: [4, 3, 8, 'fnuz'], // no inf, no -0: NaN = 0x80
  F8_E5M2FNUZ: [5, 2, 16, 'fnuz'],
  F8_E8M0: [8, 0, 127, 'e8m0'], // unsigned powers of two 2^(x-127); NaN = 0xFF
};

const tables = new Map<SmallFloat, Float64Array>();

/** The value of every bit pattern of a small float format (built once, on first use). */
function table(dtype: SmallFloat): Float64Array {
  const cached = tables.get(dtype);
  if (cached) return cached;
  const [e, m, bias, kind] = SMALL_FLOATS[dtype];
  const signBit = kind === 'e8m0' ? 0 : 1 << (e + m);
  const out = new Float64Array(1 << (e + m + (signBit ? 1 : 0)));
  const expMax = (1 << e) - 1;
  for (let code = 0; code < out.length; code++) {
    const sign = code & signBit ? -1 : 1;
    const exp = (code >> m) & expMax;
    const man = code & ((1 << m) - 1);
    let v: number;
    if (kind === 'e8m0') v = exp === expMax ? NaN : 2 ** (exp - bias);
    else if (kind === 'fnuz' && code === signBit) v = NaN;
    else if (kind === 'ieee' && exp === expMax) v = man === 0 ? Infinity : NaN;
    else if (kind === 'fn' && exp === expMax && man === (1 << m) - 1) v = NaN;
    else if (exp === 0) v = man * 2 ** (1 - bias - m);
    else v = (1 + man / 2 ** m) * 2 ** (exp - bias);
    out[code] = sign * v;
  }
  tables.set(dtype, out);
  return out;
}
