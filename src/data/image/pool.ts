// The decode pool: N worker threads (worker.ts) decoding samples into a ring of Q batch slots in
// one SharedArrayBuffer, with back-pressure. The main thread drives runs (one run = the batches of
// one loader iteration from a start batch) and takes batch j from slot j % Q only once all of its
// samples are done, then hands the slot back; a worker may decode batch j only while
// j < released + Q, so at most Q batches are ever decoded ahead and memory is bounded by the ring
// (Q * B * size * size * 3 bytes) whatever the dataset size.
//
// Why synchronous: the main thread waits with Atomics.wait and reads the workers' reports with
// receiveMessageOnPort, so the loader stays a plain (synchronous) iterable like the in-memory
// DataLoader and the training loop, probe and evaluation run unchanged; the wait is exactly the
// data stall (measured per take). The workers decode while the main thread trains.
//
// Runs and stops: runs have increasing ids; ending one (done or abandoned) marks it STOPPED and
// waits until no worker is inside it (a worker finishes the sample it is decoding) before the ring
// and plan are reused. A worker re-checks the run id after entering, so a late worker never works
// on a half-written plan.
//
// Threads: sharp runs each decode on libuv's thread pool, which is shared by all threads of the
// process and has UV_THREADPOOL_SIZE threads (default 4): the pool raises it to the worker count
// when it is unset and no thread pool work has run yet (otherwise set it in the environment).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ArgumentError, FileFormatError, LayerwiseError } from '../../errors';
import { CTRL, ctrlLength, packStrings, type BadImageMessage, type WorkerInit, type WorkerMessage } from './shared';

export interface DecodePoolOptions {
  files: readonly string[];
  labels: Int32Array;
  numClasses: number;
  workers: number;
  /** Ring slots Q (default 2 + ceil(workers / 2)). */
  slots?: number;
  batchSize: number;
  /** Bytes of one decoded sample (size * size * 3). */
  sampleBytes: number;
  spec: WorkerInit['spec'];
  skipBad: boolean;
  /** The decoder module (default src/data/image/sample, image-decode's loadSample). */
  decoder?: string;
}

/** The ring's slot count for `workers` workers when none is given. */
export function defaultSlots(workers: number): number {
  return 2 + Math.ceil(workers / 2);
}

export interface RunStats {
  /** Seconds the consumer waited for batches (the data stall). */
  stallSeconds: number;
  batches: number;
  decoded: number;
  replaced: number;
  /** Seconds the workers spent decoding, summed over workers. */
  busySeconds: number;
}

function defaultDecoder(): string {
  return path.join(__dirname, `sample${path.extname(__filename)}`);
}

/** Starts a worker on worker.ts/.js; from TypeScript sources (tests) through esbuild's transform. */
function startWorker(workerData: unknown): Worker {
  const entry = path.join(__dirname, `worker${path.extname(__filename)}`);
  if (!entry.endsWith('.ts')) return new Worker(entry, { workerData, transferList: [(workerData as { port: MessagePort }).port] });
  const esbuild = createRequire(__filename).resolve('esbuild');
  const code = `const fs = require('fs'); const esbuild = require(${JSON.stringify(esbuild)});
require.extensions['.ts'] = (m, f) => m._compile(esbuild.transformSync(fs.readFileSync(f, 'utf8'), { loader: 'ts', format: 'cjs', sourcefile: f }).code, f);
require(${JSON.stringify(entry)});`;
  return new Worker(code, { eval: true, workerData, transferList: [(workerData as { port: MessagePort }).port] });
}

export class DecodePool {
  readonly workers: number;
  readonly slots: number;
  readonly batchSize: number;
  readonly sampleBytes: number;
  /** Bytes of the ring (the bound on decoded-but-unconsumed pixels). */
  readonly ringBytes: number;
  private readonly ctrl: Int32Array;
  private readonly ring: Uint8Array;
  private readonly planFiles: Int32Array;
  private readonly planSeeds: Uint32Array;
  private readonly busy: Float64Array;
  private readonly threads: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private run = 0;
  private runOpen = false;
  private stats: RunStats = { stallSeconds: 0, batches: 0, decoded: 0, replaced: 0, busySeconds: 0 };
  private readonly bad: BadImageMessage[] = [];
  private closed = false;

  constructor(o: DecodePoolOptions) {
    if (!Number.isSafeInteger(o.workers) || o.workers < 1) throw new ArgumentError(`--workers: expected a positive integer, got ${o.workers}`);
    const decoder = o.decoder ?? defaultDecoder();
    if (!existsSync(decoder)) throw new LayerwiseError('ERR_MISSING_MODULE', `image decoding module ${decoder} is missing (src/data/image/sample.ts)`);
    this.workers = o.workers;
    this.slots = o.slots ?? defaultSlots(o.workers);
    this.batchSize = o.batchSize;
    this.sampleBytes = o.sampleBytes;
    this.ringBytes = this.slots * o.batchSize * o.sampleBytes;
    const n = o.files.length;
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * ctrlLength(this.slots)));
    this.ring = new Uint8Array(new SharedArrayBuffer(this.ringBytes));
    this.planFiles = new Int32Array(new SharedArrayBuffer(4 * Math.max(n, 1)));
    this.planSeeds = new Uint32Array(new SharedArrayBuffer(4 * Math.max(n, 1)));
    this.busy = new Float64Array(new SharedArrayBuffer(8 * o.workers));
    // Files grouped by class (a counting sort), for the same-class replacement of bad files.
    const classStart = new Int32Array(new SharedArrayBuffer(4 * (o.numClasses + 1)));
    for (const l of o.labels) classStart[l + 1]++;
    for (let c = 0; c < o.numClasses; c++) classStart[c + 1] += classStart[c];
    const members = new Int32Array(new SharedArrayBuffer(4 * Math.max(n, 1)));
    const fill = classStart.slice(0, o.numClasses);
    o.labels.forEach((l, i) => (members[fill[l]++] = i));
    const labels = new Int32Array(new SharedArrayBuffer(4 * Math.max(n, 1)));
    labels.set(o.labels);
    const files = packStrings(o.files);
    if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = String(Math.max(4, o.workers));
    // sharp's shared libraries stay loaded while the main thread holds them: without this, the last
    // worker to exit unloads libvips (glibc dlclose) and the next pool's workers crash loading it
    // again (lovell/sharp#2263).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('sharp');
    const shared = {
      decoder, spec: o.spec, batchSize: o.batchSize, slots: this.slots, sampleBytes: o.sampleBytes, skipBad: o.skipBad,
      ctrl: this.ctrl.buffer as SharedArrayBuffer, ring: this.ring.buffer as SharedArrayBuffer,
      planFiles: this.planFiles.buffer as SharedArrayBuffer, planSeeds: this.planSeeds.buffer as SharedArrayBuffer,
      busy: this.busy.buffer as SharedArrayBuffer, files, classStart: classStart.buffer as SharedArrayBuffer,
      members: members.buffer as SharedArrayBuffer, labels: labels.buffer as SharedArrayBuffer,
    };
    // Every worker posts on its own port; the main thread drains them all synchronously.
    for (let i = 0; i < o.workers; i++) {
      const ch = new MessageChannel();
      const init: WorkerInit = { index: i, ...shared };
      const w = startWorker({ init, port: ch.port2 });
      w.unref();
      this.threads.push(w);
      this.ports.push(ch.port1);
    }
  }

  /** Starts a run over `files` (file indices) with per-sample `seeds`, ending any open run first. */
  startRun(epoch: number, files: Int32Array, seeds: Uint32Array): number {
    this.checkOpen();
    this.endRun();
    // Errors of runs that are over (a late worker's) belong to no one now.
    this.drain();
    this.errors.length = 0;
    const c = this.ctrl;
    this.planFiles.set(files);
    this.planSeeds.set(seeds);
    Atomics.store(c, CTRL.NEXT, 0);
    Atomics.store(c, CTRL.TOTAL, files.length);
    Atomics.store(c, CTRL.RELEASED, 0);
    Atomics.store(c, CTRL.EPOCH, epoch);
    Atomics.store(c, CTRL.DECODED, 0);
    Atomics.store(c, CTRL.REPLACED, 0);
    for (let s = 0; s < this.slots; s++) Atomics.store(c, CTRL.DONE + s, 0);
    this.busy.fill(0);
    this.run++;
    this.runOpen = true;
    Atomics.store(c, CTRL.RUN, this.run);
    Atomics.notify(c, CTRL.RUN);
    return this.run;
  }

  /**
   * Blocks until batch j of the run (`count` samples) is decoded; returns its bytes (a view of the
   * ring, valid until release(j)). Throws a worker's error (naming the file).
   */
  take(j: number, count: number, id = this.run): Uint8Array {
    const c = this.ctrl;
    if (id !== this.run || !this.runOpen) throw new LayerwiseError('ERR_RUN_OVER', `decode pool: run ${id} is over (a newer iteration of the loader started)`);
    const slot = j % this.slots;
    if (j !== Atomics.load(c, CTRL.RELEASED)) throw new ArgumentError(`decode pool: batch ${j} taken out of order (next is ${Atomics.load(c, CTRL.RELEASED)})`);
    const start = performance.now();
    for (;;) {
      this.drain();
      const done = Atomics.load(c, CTRL.DONE + slot);
      if (done >= count) break;
      if (Atomics.load(c, CTRL.ERROR) >= this.run) this.fail();
      if (Atomics.load(c, CTRL.DEAD) >= this.workers) this.failStart();
      Atomics.wait(c, CTRL.DONE + slot, done, 500);
    }
    this.stats.stallSeconds += (performance.now() - start) / 1000;
    this.stats.batches++;
    const offset = slot * this.batchSize * this.sampleBytes;
    return this.ring.subarray(offset, offset + count * this.sampleBytes);
  }

  /** Hands batch j's slot back to the workers. */
  release(j: number): void {
    const c = this.ctrl;
    Atomics.store(c, CTRL.DONE + (j % this.slots), 0);
    Atomics.add(c, CTRL.RELEASED, 1);
    Atomics.notify(c, CTRL.RELEASED);
  }

  /** Ends the current run, or run `id` if it is still the current one: waits for the workers to leave it. */
  endRun(id = this.run): void {
    if (!this.runOpen || id !== this.run) return;
    const c = this.ctrl;
    Atomics.store(c, CTRL.STOPPED, this.run);
    Atomics.notify(c, CTRL.RELEASED);
    for (;;) {
      const active = Atomics.load(c, CTRL.ACTIVE);
      if (active === 0) break;
      Atomics.wait(c, CTRL.ACTIVE, active, 500);
    }
    this.drain();
    this.stats.decoded += Atomics.load(c, CTRL.DECODED);
    this.stats.replaced += Atomics.load(c, CTRL.REPLACED);
    this.stats.busySeconds += this.busy.reduce((a, b) => a + b, 0);
    this.runOpen = false;
  }

  /** The current run so far: samples decoded (finished) and batches handed back (for back-pressure checks). */
  progress(): { decoded: number; released: number } {
    return { decoded: Atomics.load(this.ctrl, CTRL.DECODED), released: Atomics.load(this.ctrl, CTRL.RELEASED) };
  }

  /** Statistics since the previous call (runs still open count what they did so far, except decodes). */
  takeStats(): RunStats {
    const s = this.stats;
    this.stats = { stallSeconds: 0, batches: 0, decoded: 0, replaced: 0, busySeconds: 0 };
    return s;
  }

  /** Bad files reported since the previous call. */
  takeBadImages(): BadImageMessage[] {
    this.drain();
    return this.bad.splice(0);
  }

  close(): void {
    if (this.closed) return;
    this.endRun();
    this.closed = true;
    // Workers leave their loop on RUN -1 and exit by themselves (none is decoding: endRun waited);
    // no terminate(), which could stop one inside libvips. They are unref'd: they never hold the
    // process open.
    Atomics.store(this.ctrl, CTRL.RUN, -1);
    Atomics.notify(this.ctrl, CTRL.RUN);
    for (const p of this.ports) p.close();
  }

  private drain(): void {
    for (const p of this.ports) {
      for (let m = receiveMessageOnPort(p); m !== undefined; m = receiveMessageOnPort(p)) {
        const msg = m.message as WorkerMessage;
        if (msg.kind === 'bad') this.bad.push(msg);
        else if (msg.phase === 'start') this.startErrors.push(msg);
        else this.errors.push(msg);
      }
    }
  }

  private readonly errors: Extract<WorkerMessage, { kind: 'error' }>[] = [];
  private readonly startErrors: Extract<WorkerMessage, { kind: 'error' }>[] = [];

  /** Every worker failed to start (decoder or sharp not loadable): nothing can decode. */
  private failStart(): never {
    this.drain();
    const e = this.startErrors[0];
    this.endRun();
    throw new LayerwiseError('ERR_DECODE', `all ${this.workers} decode workers failed to start: ${e?.message ?? 'no reason reported'}`);
  }

  private fail(): never {
    // The error message was posted before the flag was set; drain once more to be sure it is in.
    this.drain();
    const e = this.errors.shift();
    this.endRun();
    Atomics.store(this.ctrl, CTRL.ERROR, 0);
    if (e?.file) throw new FileFormatError(e.file, e.message.startsWith(e.file) ? e.message.slice(e.file.length).replace(/^:\s*/, '') : e.message);
    throw new LayerwiseError('ERR_DECODE', e?.message ?? 'a decode worker failed');
  }

  private checkOpen(): void {
    if (this.closed) throw new LayerwiseError('ERR_CLOSED', 'decode pool: used after close()');
  }
}
