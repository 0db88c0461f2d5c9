// The memory shared between the decode pool (pool.ts, main thread) and its workers (worker.ts):
// the layout of the control block, the packed file list and the messages the workers post. Kept
// in one place so both sides agree on every index.

/** Int32 indices of the control block. */
export const CTRL = {
  /** Id of the current run (one iterate() of the loader); workers wait on it; -1 closes them. */
  RUN: 0,
  /** Runs with an id <= STOPPED are over: workers leave them. */
  STOPPED: 1,
  /** Next sample ticket of the run (Atomics.add claims one). */
  NEXT: 2,
  /** Samples in the run. */
  TOTAL: 3,
  /** Batches the consumer has handed back in this run: batch j may be decoded when j < RELEASED + slots. */
  RELEASED: 4,
  /** Workers inside a run. */
  ACTIVE: 5,
  /** Id of a run a worker failed in (0: none); the reason is posted on the port. */
  ERROR: 6,
  EPOCH: 7,
  /** Samples decoded in the run (replacements included once). */
  DECODED: 8,
  /** Samples of the run replaced by another of their class (--skip-bad-images). */
  REPLACED: 9,
  /** Workers that have loaded the decoder. */
  READY: 10,
  /** Workers that failed to start (the reason is posted on the port). */
  DEAD: 11,
  /** DONE[slot]: samples finished in the batch a slot holds. */
  DONE: 16,
} as const;

export function ctrlLength(slots: number): number {
  return CTRL.DONE + slots;
}

/** What each worker gets in workerData (SharedArrayBuffers are shared, not copied). */
export interface WorkerInit {
  index: number;
  decoder: string;
  /** Passed to the decoder's sampleSpecs({aug, size, cropFraction, maxPixels}); `split` picks train or eval. */
  spec: { split: 'train' | 'eval'; aug: 'basic' | 'strong'; size: number; cropFraction: number; maxPixels: number };
  batchSize: number;
  slots: number;
  sampleBytes: number;
  skipBad: boolean;
  ctrl: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  /** The run's samples in order: file index and seed per ticket. */
  planFiles: SharedArrayBuffer;
  planSeeds: SharedArrayBuffer;
  /** Seconds each worker spent decoding (Float64, one per worker). */
  busy: SharedArrayBuffer;
  files: PackedStrings;
  /** Files of each class: members[classStart[c] .. classStart[c + 1]). */
  classStart: SharedArrayBuffer;
  members: SharedArrayBuffer;
  labels: SharedArrayBuffer;
}

/** Strings packed as UTF-8 bytes and Int32 offsets (N + 1), shared by all workers. */
export interface PackedStrings {
  bytes: SharedArrayBuffer;
  offsets: SharedArrayBuffer;
}

export function packStrings(list: readonly string[]): PackedStrings {
  const encoded = list.map((s) => Buffer.from(s, 'utf8'));
  const offsets = new Int32Array(new SharedArrayBuffer(4 * (list.length + 1)));
  let total = 0;
  encoded.forEach((b, i) => {
    offsets[i] = total;
    total += b.length;
  });
  offsets[list.length] = total;
  const bytes = new SharedArrayBuffer(Math.max(total, 1));
  const view = new Uint8Array(bytes);
  encoded.forEach((b, i) => view.set(b, offsets[i]));
  return { bytes, offsets: offsets.buffer as SharedArrayBuffer };
}

export function unpackString(p: PackedStrings, i: number): string {
  const offsets = new Int32Array(p.offsets);
  return Buffer.from(p.bytes, offsets[i], offsets[i + 1] - offsets[i]).toString('utf8');
}

/** A sample that could not be decoded (posted by a worker). */
export interface BadImageMessage {
  kind: 'bad';
  file: string;
  reason: string;
  message: string;
  epoch: number;
}

/** A worker's fatal error: the run stops with it. */
export interface ErrorMessage {
  kind: 'error';
  /** 'start': the worker could not load the decoder; 'run': a sample failed. */
  phase: 'start' | 'run';
  file: string | null;
  reason: string;
  message: string;
}

export type WorkerMessage = BadImageMessage | ErrorMessage;

/** The reasons of image-decode's ImageFileError (src/data/image/sample.ts). */
export const BAD_IMAGE_REASONS = ['corrupt', 'truncated', 'too-large', 'unsupported'];

/** Whether `e` is an ImageFileError of the decoder (checked by shape: it comes from a worker's module). */
export function isImageFileError(e: unknown): e is Error & { file: string; reason: string } {
  const x = e as { file?: unknown; reason?: unknown } | null;
  return e instanceof Error && typeof x?.file === 'string' && BAD_IMAGE_REASONS.includes(String(x?.reason));
}
