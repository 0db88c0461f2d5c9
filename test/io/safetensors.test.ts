// Tests of src/io/safetensors.ts: round trips of every dtype, byte-exact compatibility with the
// Python `safetensors` package (fixture from scripts/fixtures/make-safetensors-reference.py), the
// value decoders, one test per malformed-file case (error class, code, file name, what is wrong;
// each through parseSafetensors and readSafetensors), and the atomic writer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, FileFormatError, LayerwiseError } from '../../src/errors';
import {
  DTYPE_BITS, MAX_HEADER_BYTES, SafetensorsError, parseSafetensors, readSafetensors, serializeSafetensors,
  toFloat32Array, toFloat64Array, toInt32Array, writeSafetensors,
  type SafetensorsDType, type TensorEntry, type TensorInput,
} from '../../src/io/safetensors';
import { rng } from '../helpers/random';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'safetensors', 'reference.safetensors');
const DTYPES = Object.keys(DTYPE_BITS) as SafetensorsDType[];
let dir: string;
let fileCount = 0;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerwise-safetensors-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tmpFile(name = `t${fileCount++}.safetensors`): string {
  return path.join(dir, name);
}

function randomBytes(n: number, seed: number): Uint8Array {
  const u = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(u() * 256));
}

function bytesOf(dtype: SafetensorsDType, shape: number[]): number {
  return (shape.reduce((a, b) => a * b, 1) * DTYPE_BITS[dtype]) / 8;
}

/** A file from a header (object or raw JSON text), `dataBytes` zero bytes, and an optional length field. */
function craft(header: unknown, dataBytes = 0, lengthField?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  return rawFile(text, dataBytes, lengthField ?? BigInt(text.length));
}

function rawFile(header: Uint8Array, dataBytes: number, lengthField: bigint): Uint8Array {
  const out = new Uint8Array(8 + header.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, lengthField, true);
  out.set(header, 8);
  return out;
}

function f32(name: string, shape: number[], begin: number, end = begin + bytesOf('F32', shape)): Record<string, unknown> {
  return { [name]: { dtype: 'F32', shape, data_offsets: [begin, end] } };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/**
 * Loads `bytes` with parseSafetensors and (from a file) readSafetensors; both must throw the same
 * SafetensorsError (code ERR_FILE_FORMAT) naming the source, whose message holds every fragment.
 */
function expectBad(bytes: Uint8Array, ...fragments: string[]): SafetensorsError {
  const label = 'memory/bad.safetensors';
  const err = thrown(() => parseSafetensors(bytes, label)) as SafetensorsError;
  expect(err).toBeInstanceOf(SafetensorsError);
  expect(err).toBeInstanceOf(FileFormatError);
  expect(err.code).toBe('ERR_FILE_FORMAT');
  expect(err.file).toBe(label);
  expect(err.message.startsWith(`${label}: invalid safetensors file`)).toBe(true);
  for (const f of fragments) expect(err.message).toContain(f);
  expect(err.problems.length).toBeGreaterThan(0);
  const file = tmpFile();
  fs.writeFileSync(file, bytes);
  const fromFile = thrown(() => readSafetensors(file)) as SafetensorsError;
  expect(fromFile).toBeInstanceOf(SafetensorsError);
  expect(fromFile.message).toBe(file + err.message.slice(label.length));
  return err;
}

describe('safetensors round trip', () => {
  const shapesFor = (dtype: SafetensorsDType): number[][] =>
    DTYPE_BITS[dtype] < 8 ? [[2, 4], [0, 3], [4]] : [[2, 3], [], [0], [3, 0, 2]];

  it.each(DTYPES)('dtype %s: shapes (incl. scalar [] and zero-size) survive serialize -> parse', (dtype) => {
    const input: Array<[string, TensorInput]> = shapesFor(dtype).map((shape, i) =>
      [`t${i}.${dtype}`, { dtype, shape, data: randomBytes(bytesOf(dtype, shape), i + 1) }]);
    const bytes = serializeSafetensors(input);
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({});
    expect([...tensors.keys()]).toEqual(input.map(([n]) => n));
    for (const [name, t] of input) {
      const got = tensors.get(name)!;
      expect(got.dtype).toBe(dtype);
      expect(got.shape).toEqual(t.shape);
      expect(got.data).toEqual(t.data);
    }
  });

  it('writeSafetensors -> readSafetensors: all dtypes in one file, typed-array and DataView inputs', () => {
    const file = tmpFile();
    const weights = Float32Array.from([1, -2, 3.5, 0.25, 7, 8]);
    const labels = new BigInt64Array([1n, -5n]);
    const view = new DataView(new Uint8Array([9, 8, 7, 6, 5]).buffer, 1, 3);
    writeSafetensors(file, new Map<string, TensorInput>([
      ['fc.weight', { dtype: 'F32', shape: [2, 3], data: weights.subarray(0, 6) }],
      ['labels', { dtype: 'I64', shape: [2], data: labels }],
      ['bytes', { dtype: 'U8', shape: [3], data: view }],
      ...DTYPES.map((d, i): [string, TensorInput] => [`all.${d}`, { dtype: d, shape: [8], data: randomBytes(bytesOf(d, [8]), 100 + i) }]),
    ]));
    const { tensors } = readSafetensors(file);
    expect(toFloat32Array(tensors.get('fc.weight')!)).toEqual(weights);
    expect(toInt32Array(tensors.get('labels')!)).toEqual(Int32Array.from([1, -5]));
    expect([...tensors.get('bytes')!.data]).toEqual([8, 7, 6]);
    expect(tensors.size).toBe(3 + DTYPES.length);
  });

  it('metadata round trip: unicode, escapes, empty values, keys "__proto__" and "0" (kept in order)', () => {
    const metadata = Object.fromEntries([
      ['format', 'pt'], ['b', 'üñí ✓ "q" \\ \n\t\u0001'], ['empty', ''], ['__proto__', 'own key'], ['0', 'int-like'],
    ]);
    const out = parseSafetensors(serializeSafetensors([], metadata)).metadata;
    expect(Object.entries(out)).toEqual(Object.entries(metadata));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('tensor order is the header key order, also for integer-like names ("10", "2") and names with \\ " { [ ,', () => {
    const names = ['10', 'b', '2', 'a\\"q{[,', '0.weight'];
    const bytes = serializeSafetensors(names.map((n) => [n, { dtype: 'U8', shape: [1], data: new Uint8Array([1]) }]));
    expect([...parseSafetensors(bytes).tensors.keys()]).toEqual(names);
  });

  it('accepts a plain object of tensors; empty metadata is not written', () => {
    const bytes = serializeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array([2]) } }, {});
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n))).toBe('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}  '); // padded to 56
  });

  it('parses a file that sits at an odd byte offset inside a larger buffer', () => {
    const bytes = serializeSafetensors([['w', { dtype: 'F64', shape: [2], data: new Float64Array([1.5, -3]) }]]);
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const { tensors } = parseSafetensors(host.subarray(3));
    expect([...toFloat64Array(tensors.get('w')!)]).toEqual([1.5, -3]);
  });
});

describe('safetensors compatibility with the Python package (safetensors 0.8.0, torch 2.13)', () => {
  const reference = new Uint8Array(fs.readFileSync(FIXTURE));

  it('reference.safetensors: parse -> serialize reproduces the file byte for byte', () => {
    const { tensors, metadata } = parseSafetensors(reference, FIXTURE);
    expect(tensors.size).toBe(25);
    expect(Buffer.from(serializeSafetensors(tensors, metadata)).equals(Buffer.from(reference))).toBe(true);
    const file = tmpFile();
    writeSafetensors(file, tensors, metadata);
    expect(fs.readFileSync(file).equals(Buffer.from(reference))).toBe(true);
  });

  it('reference.safetensors: header padded with spaces to 8 bytes; dtypes, shapes and offsets as written', () => {
    const n = Number(new DataView(reference.buffer, reference.byteOffset).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(FIXTURE);
    expect(metadata.format).toBe('pt');
    expect(metadata.note).toBe('unicode ü✓ "quoted" back\\slash\nnewline \u0001 control');
    expect(tensors.get('f64.weight')).toMatchObject({ dtype: 'F64', shape: [2, 3] });
    expect(tensors.get('scalar.f32')).toMatchObject({ dtype: 'F32', shape: [] });
    expect(tensors.get('empty.f32')).toMatchObject({ dtype: 'F32', shape: [0, 3] });
    expect(tensors.get('f4.packed')).toMatchObject({ dtype: 'F4', shape: [4] });
    expect(tensors.get('f4.packed')!.data.length).toBe(2);
  });

  it('matches the Python output for an empty file and a metadata-only file', () => {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    // python: safetensors.torch.save({}) and save({}, metadata={"k": "v"})
    expect(hex(serializeSafetensors([]))).toBe(hex(Buffer.from('0800000000000000', 'hex')) + hex(Buffer.from('{}      ')));
    expect(hex(serializeSafetensors(new Map(), { k: 'v' })))
      .toBe('2000000000000000' + hex(Buffer.from('{"__metadata__":{"k":"v"}}      ')));
  });

  it('decoders: toFloat64Array equals torch .double().tolist() for every numeric dtype (NaN, inf, -0, subnormals)', () => {
    const { tensors, metadata } = parseSafetensors(reference, FIXTURE);
    const expected = JSON.parse(metadata.expected) as Record<string, string[]>;
    expect(Object.keys(expected)).toHaveLength(23);
    for (const [name, values] of Object.entries(expected)) {
      const got = toFloat64Array(tensors.get(name)!, name);
      const mismatches = values.map((v, i) => [i, Number(v), got[i]]).filter(([, want, have]) => !Object.is(want, have));
      expect({ name, length: got.length, mismatches }).toEqual({ name, length: values.length, mismatches: [] });
      const single = toFloat32Array(tensors.get(name)!, name);
      values.forEach((v, i) => expect(Object.is(single[i], Math.fround(Number(v)))).toBe(true));
    }
  });

  it('decoders: toInt32Array is exact for integer dtypes and rejects out-of-range and float inputs', () => {
    const { tensors } = parseSafetensors(reference, FIXTURE);
    expect([...toInt32Array(tensors.get('i64.small')!)]).toEqual([-(2 ** 31), 2 ** 31 - 1, 7]);
    expect([...toInt32Array(tensors.get('i32.labels')!)]).toEqual([-(2 ** 31), 2 ** 31 - 1, 0, 5]);
    expect([...toInt32Array(tensors.get('u8.pixels')!)]).toEqual([0, 255, 128, 1]);
    expect([...toInt32Array(tensors.get('u16.x')!)]).toEqual([0, 65535]);
    expect([...toInt32Array(tensors.get('bool.mask')!)]).toEqual([1, 0, 1]);
    expect([...toInt32Array(tensors.get('scalar.i64')!)]).toEqual([-42]);
    const big = thrown(() => toInt32Array(tensors.get('i64.big')!, 'i64.big'));
    expect(big).toBeInstanceOf(DTypeError);
    expect(big.message).toContain('i64.big (I64, shape [5]) holds 1099511627776 at flat index 2, outside the int32 range');
    expect(thrown(() => toInt32Array(tensors.get('u32.x')!))).toBeInstanceOf(DTypeError);
    expect(thrown(() => toInt32Array(tensors.get('u64.x')!))).toBeInstanceOf(DTypeError);
    expect(thrown(() => toInt32Array(tensors.get('f32.weight')!)).message).toContain('F32, not an integer type');
    expect(thrown(() => toFloat32Array(tensors.get('c64.z')!, 'c64.z')).message).toContain('c64.z has dtype C64');
    expect(thrown(() => toFloat64Array(tensors.get('f4.packed')!))).toBeInstanceOf(DTypeError);
    const short: TensorEntry = { dtype: 'F32', shape: [2], data: new Uint8Array(4) };
    expect(thrown(() => toFloat32Array(short))).toBeInstanceOf(ArgumentError);
  });

  it('decoders return fresh arrays that do not alias the file bytes', () => {
    const { tensors } = parseSafetensors(reference.slice(), FIXTURE);
    const entry = tensors.get('f32.weight')!;
    const values = toFloat32Array(entry);
    values[0] = 123;
    expect(toFloat32Array(entry)[0]).toBeCloseTo(0.1, 6);
  });
});

describe('safetensors malformed files: one SafetensorsError (ERR_FILE_FORMAT) naming the file', () => {
  it('file shorter than 8 bytes (0 and 5 bytes)', () => {
    expectBad(new Uint8Array(0), 'file is 0 bytes, shorter than the 8-byte header length');
    expectBad(new Uint8Array(5), 'file is 5 bytes');
  });

  it('header length above the 100 MB cap (and u64 max), also larger than the file: both reported', () => {
    const err = expectBad(craft('{}', 0, BigInt(MAX_HEADER_BYTES) + 1n), 'header length 100000001 bytes exceeds the limit of 100000000 bytes', 'larger than the 2 bytes after the length field');
    expect(err.problems).toHaveLength(2);
    expectBad(craft('{}', 0, 2n ** 64n - 1n), 'header length 18446744073709551615 bytes exceeds the limit');
  });

  it('header length larger than the file', () => {
    expectBad(craft('{}', 4, 100n), 'header length 100 bytes is larger than the 6 bytes after the length field');
  });

  it('header not valid UTF-8', () => {
    expectBad(rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 0, 4n), 'header is not valid UTF-8');
  });

  it('header not valid JSON (truncated, empty)', () => {
    expectBad(craft('{"a": {"dtype": "F32"'), 'header is not valid JSON');
    expectBad(craft(''), 'header is not valid JSON');
  });

  it('header not a JSON object (array, string, null)', () => {
    expectBad(craft('[]'), 'header must be a JSON object, found []');
    expectBad(craft('"x"'), 'header must be a JSON object, found "x"');
    expectBad(craft('null'), 'header must be a JSON object, found null');
  });

  it('tensor entry not an object', () => {
    expectBad(craft({ w: 5 }), 'tensor "w": expected an object with dtype, shape and data_offsets, found 5');
  });

  it('unknown dtype (F31, lower-case f32, missing)', () => {
    expectBad(craft({ w: { dtype: 'F31', shape: [1], data_offsets: [0, 4] } }, 4), 'tensor "w": unknown dtype "F31" (known: F64, F32');
    expectBad(craft({ w: { dtype: 'f32', shape: [1], data_offsets: [0, 4] } }, 4), 'unknown dtype "f32"');
    expectBad(craft({ w: { shape: [1], data_offsets: [0, 4] } }, 4), 'tensor "w": unknown dtype nothing');
  });

  it('shape not an array of non-negative safe integers', () => {
    for (const shape of [[-1], [1.5], '3', [2 ** 53], null, [[2]]]) {
      expectBad(craft({ w: { dtype: 'U8', shape, data_offsets: [0, 0] } }), `tensor "w": shape must be an array of non-negative integers, found ${JSON.stringify(shape)}`);
    }
  });

  it('data_offsets not two non-negative integers with begin <= end', () => {
    for (const offsets of [[4, 0], [0], [0, 1, 2], [-1, 3], [0, 1.5], 'x', null]) {
      expectBad(craft({ w: { dtype: 'U8', shape: [1], data_offsets: offsets } }, 1), `tensor "w": data_offsets must be [begin, end] with integers 0 <= begin <= end, found ${JSON.stringify(offsets)}`);
    }
    expectBad(craft({ w: { dtype: 'U8', shape: [1] } }, 1), 'data_offsets must be [begin, end] with integers 0 <= begin <= end, found nothing');
  });

  it('data_offsets end beyond the byte buffer', () => {
    expectBad(craft(f32('w', [4], 0), 12), 'tensor "w": data_offsets [0, 16] end beyond the 12-byte data buffer');
  });

  it('byte size != product(shape) * dtype size', () => {
    expectBad(craft(f32('w', [2, 3], 0, 20), 20), 'tensor "w": data_offsets [0, 20] hold 20 bytes, but F32 with shape [2,3] needs 24');
    expectBad(craft({ s: { dtype: 'F64', shape: [], data_offsets: [0, 4] } }, 4), 'F64 with shape [] needs 8');
  });

  it('sub-byte dtype (F4) whose shape does not fill whole bytes', () => {
    expectBad(craft({ w: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2), 'shape [3] of F4 (4 bits) does not end on a byte boundary');
  });

  it('overlapping tensors (also a zero-size tensor inside another)', () => {
    expectBad(craft({ ...f32('a', [2], 0), ...f32('b', [2], 4) }, 12), 'tensor "b" (bytes [4, 12)) overlaps tensor "a" (bytes [0, 8))');
    expectBad(craft({ ...f32('a', [2], 0), ...f32('z', [0], 4) }, 8), 'tensor "z" (bytes [4, 4)) overlaps tensor "a"');
  });

  it('holes: buffer not starting at 0, gap between tensors, trailing bytes', () => {
    expectBad(craft(f32('a', [1], 4), 8), 'bytes [0, 4) of the data buffer belong to no tensor (a hole before "a")');
    expectBad(craft({ ...f32('a', [1], 0), ...f32('b', [1], 8) }, 12), 'bytes [4, 8) of the data buffer belong to no tensor (a hole before "b")');
    expectBad(craft(f32('a', [1], 0), 7), 'bytes [4, 7) at the end of the data buffer belong to no tensor');
    expectBad(craft({}, 1), 'bytes [0, 1) at the end of the data buffer');
  });

  it('__metadata__ not a string -> string map', () => {
    expectBad(craft({ __metadata__: { a: 1, b: 'ok', c: null } }), '__metadata__["a"] must be a string, found 1', '__metadata__["c"] must be a string, found null');
    expectBad(craft({ __metadata__: ['a'] }), '__metadata__ must be an object of string values, found ["a"]');
    expectBad(craft({ __metadata__: 'x' }), 'found "x"');
  });

  it('duplicate tensor name in the header', () => {
    const one = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    expectBad(craft(`{"w":${one},"w":${one}}`, 1), '"w" appears more than once in the header');
  });

  it('reports all problems of a header at once, each naming its tensor', () => {
    const err = expectBad(craft({
      __metadata__: { n: 3 },
      a: { dtype: 'F31', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [-2], data_offsets: [4, 8] },
      c: { dtype: 'F32', shape: [3], data_offsets: [8, 12] },
      d: { dtype: 'F32', shape: [1], data_offsets: [12, 99] },
    }, 16), 'invalid safetensors file, 5 problems:\n  - ');
    expect(err.problems).toEqual([
      '__metadata__["n"] must be a string, found 3',
      'tensor "a": unknown dtype "F31" (known: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2, F8_E4M3FNUZ, F8_E5M2FNUZ, F8_E8M0, F6_E2M3, F6_E3M2, F4, C64)',
      'tensor "b": shape must be an array of non-negative integers, found [-2]',
      'tensor "c": data_offsets [8, 12] hold 4 bytes, but F32 with shape [3] needs 12',
      'tensor "d": data_offsets [12, 99] end beyond the 16-byte data buffer',
    ]);
  });

  it('random corruptions and truncations of the reference file: a LayerwiseError or a valid result, never a crash', () => {
    const reference = new Uint8Array(fs.readFileSync(FIXTURE));
    const u = rng(7);
    for (let trial = 0; trial < 3000; trial++) {
      const bytes = reference.slice(0, trial % 3 === 0 ? Math.floor(u() * reference.length) : reference.length);
      for (let k = 0; k < 1 + Math.floor(u() * 4); k++) {
        const at = u() < 0.5 ? Math.floor(u() * Math.min(bytes.length, 300)) : Math.floor(u() * bytes.length);
        if (at < bytes.length) bytes[at] = Math.floor(u() * 256);
      }
      try {
        const { tensors } = parseSafetensors(bytes, 'fuzz');
        for (const t of tensors.values()) expect(t.data.byteOffset + t.data.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(LayerwiseError);
      }
    }
  });

  it('unreadable paths: a missing file and a directory give FileFormatError naming the path', () => {
    const missing = path.join(dir, 'does-not-exist.safetensors');
    const err = thrown(() => readSafetensors(missing)) as FileFormatError;
    expect(err).toBeInstanceOf(FileFormatError);
    expect(err.code).toBe('ERR_FILE_FORMAT');
    expect(err.message).toMatch(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read: ENOENT`));
    const dirErr = thrown(() => readSafetensors(dir)) as FileFormatError;
    expect(dirErr).toBeInstanceOf(FileFormatError);
    expect(dirErr.message).toContain(`${dir}: cannot read`);
  });
});

describe('safetensors writer', () => {
  const small = (): Map<string, TensorInput> => new Map([['w', { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]]);
  const tempsIn = (d: string): string[] => fs.readdirSync(d).filter((n) => n.includes('.tmp-'));

  it('atomic write leaves no temporary file and replaces an existing larger file whole', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'atomic-'));
    const file = path.join(sub, 'checkpoint.safetensors');
    writeSafetensors(file, [['big', { dtype: 'U8', shape: [4096], data: new Uint8Array(4096).fill(7) }]], { step: '1' });
    expect(fs.statSync(file).size).toBeGreaterThan(4096);
    writeSafetensors(file, small(), { step: '2' });
    expect(fs.readdirSync(sub)).toEqual(['checkpoint.safetensors']);
    expect(fs.readFileSync(file).equals(Buffer.from(serializeSafetensors(small(), { step: '2' })))).toBe(true);
    expect(readSafetensors(file).metadata).toEqual({ step: '2' });
  });

  it('a failed write (target is a directory, or its folder is missing) removes the temp file and names the path', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'fail-'));
    const target = path.join(sub, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    const err = thrown(() => writeSafetensors(target, small())) as FileFormatError;
    expect(err).toBeInstanceOf(FileFormatError);
    expect(err.code).toBe('ERR_FILE_FORMAT');
    expect(err.message.startsWith(`${target}: cannot write: `)).toBe(true);
    expect(tempsIn(sub)).toEqual([]);
    expect(fs.readdirSync(target)).toEqual(['keep']);
    const noFolder = path.join(sub, 'missing', 'x.safetensors');
    expect(thrown(() => writeSafetensors(noFolder, small())).message).toContain(`${noFolder}: cannot write: ENOENT`);
  });

  it('bad input is an ArgumentError listing every problem, and nothing is written', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'bad-input-'));
    const file = path.join(sub, 'x.safetensors');
    const err = thrown(() => writeSafetensors(file, [
      ['a', { dtype: 'F32', shape: [3], data: new Float32Array(2) }],
      ['a', { dtype: 'U8', shape: [1], data: new Uint8Array(1) }],
      ['__metadata__', { dtype: 'U8', shape: [0], data: new Uint8Array(0) }],
      ['d', { dtype: 'F31' as SafetensorsDType, shape: [1], data: new Uint8Array(4) }],
      ['e', { dtype: 'U8', shape: [-1], data: new Uint8Array(0) }],
      ['f', { dtype: 'F4', shape: [3], data: new Uint8Array(2) }],
      ['g\ud800', { dtype: 'U8', shape: [0], data: new Uint8Array(0) }],
    ], { n: 3 as unknown as string }));
    expect(err).toBeInstanceOf(ArgumentError);
    for (const part of [
      'metadata["n"] must be a string, found 3',
      'tensor "a": data has 8 bytes, but F32 with shape [3] needs 12 bytes',
      'tensor "a": name given more than once',
      'tensor "__metadata__": invalid name',
      'tensor "d": unknown dtype "F31"',
      'tensor "e": shape must be an array of non-negative integers, found [-1]',
      'tensor "f": data has 2 bytes, but F4 with shape [3] needs a whole number of bytes',
      'tensor "g\\ud800": invalid name',
    ]) expect(err.message).toContain(part);
    expect(fs.readdirSync(sub)).toEqual([]);
  });
});
