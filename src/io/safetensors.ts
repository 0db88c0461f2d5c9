// Reader and writer of the safetensors format, in plain TypeScript: checkpoints (weights, optimizer
// state) are safetensors files, so they open in PyTorch, and PyTorch's files open here.
// Format (https://huggingface.co/docs/safetensors): an 8-byte little-endian u64 header length N,
// N bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
// {string: string}}`, then the byte buffer; offsets count from the start of the byte buffer.
// Loading validates like the reference implementation (huggingface/safetensors, Rust:
// `Metadata::validate`) — the tensors must cover the buffer exactly, contiguous from 0 — and
// reports every problem in the header at once. A malformed file gives a SafetensorsError, never
// an out-of-bounds read. Data bytes are little-endian, as typed arrays hold them on x64 and arm64.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArgumentError, FileFormatError, LayerwiseError } from '../errors';
import { DTYPE_BITS, tensorBytes, type SafetensorsDType, type TensorEntry } from './safetensors-dtypes';

export { DTYPE_BITS, toFloat32Array, toFloat64Array, toInt32Array } from './safetensors-dtypes';
export type { SafetensorsDType, TensorEntry } from './safetensors-dtypes';

/** Largest header the reader accepts, as the reference (`MAX_HEADER_SIZE`). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A tensor to write: `data` holds exactly product(shape) elements of `dtype`, little-endian. */
export interface TensorInput {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** Tensors to write, in file order: a Map, an array of [name, tensor] pairs, or a plain object. */
export type TensorsInput =
  | Iterable<readonly [string, TensorInput]>
  | Readonly<Record<string, TensorInput>>;

export interface SafetensorsContents {
  /** Tensors in the order of the header's keys. */
  tensors: Map<string, TensorEntry>;
  /** The header's `__metadata__` ({} when absent). */
  metadata: Record<string, string>;
}

/** A malformed safetensors file; `problems` lists everything found wrong (also in the message). */
export class SafetensorsError extends FileFormatError {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    const shown = problems.slice(0, 50).map((p) => `\n  - ${p}`).join('');
    const more = problems.length > 50 ? `\n  ... and ${problems.length - 50} more` : '';
    super(file, problems.length === 1
      ? `invalid safetensors file: ${problems[0]}`
      : `invalid safetensors file, ${problems.length} problems:${shown}${more}`);
    this.problems = problems;
  }
}

interface Placed {
  name: string;
  entry: Omit<TensorEntry, 'data'>;
  begin: number;
  end: number;
}

/**
 * Parses a whole safetensors file held in memory. The returned `data` arrays are views into
 * `bytes` (no copy). `fileLabel` names the source in error messages.
 */
export function parseSafetensors(bytes: Uint8Array, fileLabel = '<buffer>'): SafetensorsContents {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, fileLabel);
  const { placed, metadata } = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, fileLabel);
  const tensors = new Map<string, TensorEntry>();
  for (const p of placed) tensors.set(p.name, { ...p.entry, data: bytes.subarray(8 + n + p.begin, 8 + n + p.end) });
  return { tensors, metadata };
}

/**
 * Reads a safetensors file (like `safetensors.torch.load_file`). The header is read and validated
 * first; each tensor's bytes are then read into its own array, so files beyond Node's 2 GiB
 * single-read limit load too. Errors are FileFormatErrors naming `file`.
 */
export function readSafetensors(file: string): SafetensorsContents {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw osError(file, 'cannot read', e);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new FileFormatError(file, 'cannot read: not a regular file');
    const size = stat.size;
    const n = headerLength(readExact(fd, file, 0, Math.min(8, size)), size, file);
    const { placed, metadata } = parseHeader(readExact(fd, file, 8, n), size - 8 - n, file);
    const tensors = new Map<string, TensorEntry>();
    for (const p of placed) tensors.set(p.name, { ...p.entry, data: readExact(fd, file, 8 + n + p.begin, p.end - p.begin) });
    return { tensors, metadata };
  } catch (e) {
    throw e instanceof LayerwiseError ? e : osError(file, 'cannot read', e);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Serializes tensors (in the given order, contiguous from offset 0) and metadata into a file's
 * bytes. The header is padded with spaces to a multiple of 8 bytes, as the reference does;
 * `__metadata__` is written when it has at least one key. Bad input throws ArgumentError.
 */
export function serializeSafetensors(tensors: TensorsInput, metadata?: Record<string, string>): Uint8Array {
  const { header, parts, size } = prepare(tensors, metadata);
  const out = new Uint8Array(size);
  out.set(header, 0);
  let at = header.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Writes a safetensors file atomically (like `safetensors.torch.save_file`): the bytes go to
 * `file + '.tmp-<pid>-<random>'`, which is fsynced and renamed over `file`, so a crash or a full
 * disk never leaves a partial file at `file`. The temporary file is removed on failure.
 */
export function writeSafetensors(file: string, tensors: TensorsInput, metadata?: Record<string, string>): void {
  const { header, parts } = prepare(tensors, metadata);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    writeAll(fd, header);
    for (const part of parts) writeAll(fd, part);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      if (fd !== undefined) fs.closeSync(fd);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    throw osError(file, 'cannot write', e);
  }
  syncDirectory(path.dirname(file));
}

// ---- reading ----

/** Validates the 8-byte prefix against the file size; returns N. */
function headerLength(prefix: Uint8Array, fileBytes: number, label: string): number {
  if (fileBytes < 8) {
    throw new SafetensorsError(label, [`file is ${fileBytes} bytes, shorter than the 8-byte header length`]);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  const problems: string[] = [];
  if (n > BigInt(MAX_HEADER_BYTES)) problems.push(`header length ${n} bytes exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  if (n > BigInt(fileBytes - 8)) {
    problems.push(`header length ${n} bytes is larger than the ${fileBytes - 8} bytes after the length field`);
  }
  if (problems.length > 0) throw new SafetensorsError(label, problems);
  return Number(n);
}

/** Decodes and validates the JSON header against a byte buffer of `bufferBytes` bytes. */
function parseHeader(bytes: Uint8Array, bufferBytes: number, label: string): { placed: Placed[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SafetensorsError(label, ['header is not valid UTF-8']);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(label, [`header is not valid JSON (${(e as Error).message})`]);
  }
  if (!isPlainObject(header)) throw new SafetensorsError(label, [`header must be a JSON object, found ${describe(header)}`]);

  const problems: string[] = [];
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) problems.push(`${quote(key)} appears more than once in the header`);
    seen.add(key);
  }
  const metadata = parseMetadata(header['__metadata__'], problems);
  const placed: Placed[] = [];
  const withOffsets: Placed[] = [];
  let allOffsetsValid = true;
  for (const name of seen) {
    if (name === '__metadata__') continue;
    const result = parseTensorInfo(name, header[name], bufferBytes, problems);
    if (result.offsets) withOffsets.push(result.offsets);
    else allOffsetsValid = false;
    if (result.placed) placed.push(result.placed);
  }
  checkCoverage(withOffsets, bufferBytes, allOffsetsValid, problems);
  if (problems.length > 0) throw new SafetensorsError(label, problems);
  return { placed, metadata };
}

function parseMetadata(value: unknown, problems: string[]): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    problems.push(`__metadata__ must be an object of string values, found ${describe(value)}`);
    return {};
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') problems.push(`__metadata__[${quote(k)}] must be a string, found ${describe(v)}`);
  }
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** Checks one header entry; `offsets` is set when its offsets are usable for the coverage check. */
function parseTensorInfo(name: string, info: unknown, bufferBytes: number, problems: string[]): { placed?: Placed; offsets?: Placed } {
  const where = `tensor ${quote(name)}`;
  if (!isPlainObject(info)) {
    problems.push(`${where}: expected an object with dtype, shape and data_offsets, found ${describe(info)}`);
    return {};
  }
  const { dtype, shape, data_offsets: offsets } = info;
  let ok = true;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BITS, dtype)) {
    problems.push(`${where}: unknown dtype ${describe(dtype)} (known: ${Object.keys(DTYPE_BITS).join(', ')})`);
    ok = false;
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    problems.push(`${where}: shape must be an array of non-negative integers, found ${describe(shape)}`);
    ok = false;
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
    problems.push(`${where}: data_offsets must be [begin, end] with integers 0 <= begin <= end, found ${describe(offsets)}`);
    return {};
  }
  const [begin, end] = offsets as [number, number];
  if (end > bufferBytes) {
    problems.push(`${where}: data_offsets [${begin}, ${end}] end beyond the ${bufferBytes}-byte data buffer`);
    return {};
  }
  const entry = { dtype: dtype as SafetensorsDType, shape: shape as number[] };
  const result: { placed?: Placed; offsets?: Placed } = { offsets: { name, entry, begin, end } };
  if (!ok) return result;
  const size = tensorBytes(entry.dtype, entry.shape);
  if (size === undefined) {
    problems.push(`${where}: shape ${describe(shape)} of ${dtype} (${DTYPE_BITS[entry.dtype]} bits) does not end on a byte boundary`);
  } else if (size !== BigInt(end - begin)) {
    problems.push(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, `
      + `but ${dtype} with shape ${describe(shape)} needs ${size}`);
  } else {
    result.placed = result.offsets;
  }
  return result;
}

/** The reference requires the tensors to tile the byte buffer: contiguous, from 0, to its end. */
function checkCoverage(placed: Placed[], bufferBytes: number, complete: boolean, problems: string[]): void {
  const sorted = [...placed].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let last: Placed | undefined;
  for (const p of sorted) {
    if (last && p.begin < cursor) {
      problems.push(`tensor ${quote(p.name)} (bytes [${p.begin}, ${p.end})) overlaps `
        + `tensor ${quote(last.name)} (bytes [${last.begin}, ${last.end}))`);
    } else if (complete && p.begin > cursor) {
      problems.push(`bytes [${cursor}, ${p.begin}) of the data buffer belong to no tensor (a hole before ${quote(p.name)})`);
    }
    if (!last || p.end >= cursor) [cursor, last] = [p.end, p];
  }
  if (complete && cursor < bufferBytes) {
    problems.push(`bytes [${cursor}, ${bufferBytes}) at the end of the data buffer belong to no tensor`);
  }
}

/** The top-level keys of a valid JSON object text, in file order (JSON.parse moves integer-like keys first). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let i = text.indexOf('{') + 1;
  let depth = 0;
  let expectKey = true;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 0 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) expectKey = true;
    if (depth < 0) break;
    i++;
  }
  return keys;
}

function readExact(fd: number, file: string, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let got = 0; got < length;) {
    const n = fs.readSync(fd, out, got, length - got, position + got);
    if (n === 0) {
      throw new FileFormatError(file, `file ended at byte ${position + got} while reading ${length} bytes `
        + `at ${position} (did it change while being read?)`);
    }
    got += n;
  }
  return out;
}

// ---- writing ----

/** Validates the input (reporting every problem) and lays out the header and the data parts. */
function prepare(
  tensors: TensorsInput,
  metadata: Record<string, string> | undefined,
): { header: Uint8Array; parts: Uint8Array[]; size: number } {
  const problems: string[] = [];
  const pairs: Array<readonly [string, TensorInput]> = Symbol.iterator in tensors
    ? [...(tensors as Iterable<readonly [string, TensorInput]>)]
    : Object.entries(tensors as Record<string, TensorInput>);
  const json: string[] = [];
  if (metadata !== undefined && !isPlainObject(metadata)) problems.push(`metadata must be an object of strings, found ${describe(metadata)}`);
  const metaEntries = isPlainObject(metadata) ? Object.entries(metadata) : [];
  for (const [k, v] of metaEntries) {
    if (typeof v !== 'string') problems.push(`metadata[${quote(k)}] must be a string, found ${describe(v)}`);
    else if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
      problems.push(`metadata[${quote(k)}] contains a lone UTF-16 surrogate (not encodable as UTF-8)`);
    }
  }
  if (metaEntries.length > 0) json.push(`"__metadata__":{${metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  const names = new Set<string>();
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of pairs) {
    const where = `tensor ${quote(name)}`;
    if (typeof name !== 'string' || name === '__metadata__' || LONE_SURROGATE.test(name)) {
      problems.push(`${where}: invalid name (must be a string other than "__metadata__", encodable as UTF-8)`);
    } else if (names.has(name)) problems.push(`${where}: name given more than once`);
    names.add(name);
    if (!t || typeof t.dtype !== 'string' || !Object.hasOwn(DTYPE_BITS, t.dtype)) {
      problems.push(`${where}: unknown dtype ${describe(t?.dtype)}`);
      continue;
    }
    if (!Array.isArray(t.shape) || !t.shape.every(isIndex)) {
      problems.push(`${where}: shape must be an array of non-negative integers, found ${describe(t.shape)}`);
      continue;
    }
    if (!ArrayBuffer.isView(t.data)) {
      problems.push(`${where}: data must be a typed array or DataView`);
      continue;
    }
    const size = tensorBytes(t.dtype, t.shape);
    if (size === undefined || size !== BigInt(t.data.byteLength)) {
      problems.push(`${where}: data has ${t.data.byteLength} bytes, `
        + `but ${t.dtype} with shape ${describe(t.shape)} needs ${size ?? 'a whole number of'} bytes`);
      continue;
    }
    const offsets = `[${offset},${offset + t.data.byteLength}]`;
    json.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":${offsets}}`);
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += t.data.byteLength;
  }
  if (problems.length > 0) throw new ArgumentError(`safetensors: cannot serialize: ${problems.join('; ')}`);
  const text = new TextEncoder().encode(`{${json.join(',')}}`);
  const padded = text.length + ((8 - (text.length % 8)) % 8);
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + text.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(text, 8);
  return { header, parts, size: header.length + offset };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}

/** Makes the rename durable; best effort (not every platform can fsync a directory). */
function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // durability of the rename is not guaranteed here; the file itself is complete
  }
}

// ---- helpers ----

const LONE_SURROGATE = /\p{Surrogate}/u;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function quote(name: string): string {
  return JSON.stringify(name);
}

/** A short JSON rendering of a header value for messages. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function osError(file: string, what: string, e: unknown): FileFormatError {
  const err = new FileFormatError(file, `${what}: ${e instanceof Error ? e.message : String(e)}`);
  err.cause = e;
  return err;
}
