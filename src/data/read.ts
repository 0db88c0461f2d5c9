// Reading dataset files whole, with errors that name the file: an unreadable path carries the OS
// error (ENOENT, EACCES, EISDIR ...), gzip data (detected by its magic bytes 1f 8b, not by the
// file name) is inflated and a corrupt or cut stream is reported as such. Shared by idx.ts and
// cifar.ts; the formats' own checks stay with their readers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { FileFormatError } from '../errors';

/** The file's bytes; FileFormatError naming the file and the OS error when it cannot be read. */
export function readBytes(file: string): Uint8Array {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new FileFormatError(file, `cannot read: ${(e as Error).message}`);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** True when `bytes` start with the gzip magic number (RFC 1952: 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The file's bytes, inflated when they are gzip data. */
export function readMaybeGzip(file: string): Uint8Array {
  const bytes = readBytes(file);
  if (!isGzip(bytes)) return bytes;
  let out: Buffer;
  try {
    out = zlib.gunzipSync(bytes);
  } catch (e) {
    throw new FileFormatError(file, `invalid gzip data (${bytes.length} bytes): ${(e as Error).message}`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The first of `names` that exists in `dir` (as a path), or undefined. */
export function findFile(dir: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** FileFormatError for a dataset directory: missing, not a directory, or without the wanted file. */
export function missingFile(dir: string, what: string, looked: readonly string[]): FileFormatError {
  let why: string;
  try {
    why = fs.statSync(dir).isDirectory() ? `no ${what} file (looked for ${looked.join(', ')})` : 'not a directory';
  } catch (e) {
    why = `cannot read: ${(e as Error).message}`;
  }
  return new FileFormatError(dir, why);
}
