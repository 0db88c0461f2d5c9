// A decode worker of the pool (pool.ts): claims sample tickets of the current run, waits until the
// ring slot of the ticket's batch is free (back-pressure), decodes the file with the decoder's
// loadSample (src/data/image/sample.ts) straight into the shared ring and counts the sample done.
// A sample's bytes depend only on (file, spec, seed) and its seed on (seed, epoch, position), so
// which worker decodes it changes nothing.
//
// Bad files (an ImageFileError): with skipBad, the sample is replaced by another file of the SAME
// class, picked from (sample seed, try) (8 tries), and reported on the port; without, the worker
// reports the error and flags the run as failed: the main thread throws it, naming the file.
import { workerData, type MessagePort } from 'node:worker_threads';
import { mixSeed } from '../seeds';
import { CTRL, isImageFileError, unpackString, type WorkerInit, type WorkerMessage } from './shared';

interface Decoder {
  loadSample(file: string, spec: unknown, seed: number, out: Uint8Array, offset: number): Promise<unknown>;
  sampleSpecs(opts: { aug: string; size: number; cropFraction: number; maxPixels: number }): { train: unknown; eval: unknown };
}

const REPLACEMENT_TRIES = 8;

const init = workerData.init as WorkerInit;
const port = workerData.port as MessagePort;
const ctrl = new Int32Array(init.ctrl);
const ring = new Uint8Array(init.ring);
const planFiles = new Int32Array(init.planFiles);
const planSeeds = new Uint32Array(init.planSeeds);
const busy = new Float64Array(init.busy);
const labels = new Int32Array(init.labels);
const classStart = new Int32Array(init.classStart);
const members = new Int32Array(init.members);

function post(m: WorkerMessage): void {
  port.postMessage(m);
}

function stopped(run: number): boolean {
  return Atomics.load(ctrl, CTRL.STOPPED) >= run || Atomics.load(ctrl, CTRL.RUN) !== run;
}

class FatalError extends Error {
  constructor(readonly file: string | null, readonly reason: string, message: string) {
    super(message);
  }
}

async function decode(decoder: Decoder, spec: unknown, fileIndex: number, seed: number, offset: number, epoch: number): Promise<void> {
  const file = unpackString(init.files, fileIndex);
  try {
    await decoder.loadSample(file, spec, seed, ring, offset);
    return;
  } catch (e) {
    if (!isImageFileError(e)) throw new FatalError(file, 'error', `${file}: ${(e as Error).message}`);
    if (!init.skipBad) throw new FatalError(file, e.reason, `${e.message} (pass --skip-bad-images to replace such images by another of their class)`);
    post({ kind: 'bad', file, reason: e.reason, message: e.message, epoch });
  }
  const c = labels[fileIndex];
  const from = classStart[c];
  const count = classStart[c + 1] - from;
  for (let t = 0; t < REPLACEMENT_TRIES && count > 1; t++) {
    let pick = members[from + (mixSeed(seed, 0x72706c, t) % count)];
    if (pick === fileIndex) pick = members[from + ((mixSeed(seed, 0x72706c, t) + 1) % count)];
    const other = unpackString(init.files, pick);
    try {
      await decoder.loadSample(other, spec, mixSeed(seed, t + 1), ring, offset);
      Atomics.add(ctrl, CTRL.REPLACED, 1);
      return;
    } catch (e) {
      if (!isImageFileError(e)) throw new FatalError(other, 'error', `${other}: ${(e as Error).message}`);
      post({ kind: 'bad', file: other, reason: e.reason, message: e.message, epoch });
    }
  }
  throw new FatalError(file, 'no-replacement', `${file}: could not be decoded, and no other image of its class ${c} could replace it (${REPLACEMENT_TRIES} tries among ${count - 1})`);
}

async function work(decoder: Decoder, spec: unknown, run: number): Promise<void> {
  const { batchSize, slots, sampleBytes } = init;
  const total = Atomics.load(ctrl, CTRL.TOTAL);
  const epoch = Atomics.load(ctrl, CTRL.EPOCH);
  for (;;) {
    if (stopped(run)) return;
    const t = Atomics.add(ctrl, CTRL.NEXT, 1);
    if (t >= total) return;
    const j = Math.floor(t / batchSize);
    for (;;) {
      const released = Atomics.load(ctrl, CTRL.RELEASED);
      if (j < released + slots) break;
      if (stopped(run)) return;
      Atomics.wait(ctrl, CTRL.RELEASED, released, 200);
    }
    const slot = j % slots;
    const start = performance.now();
    await decode(decoder, spec, planFiles[t], planSeeds[t], (slot * batchSize + (t % batchSize)) * sampleBytes, epoch);
    busy[init.index] += (performance.now() - start) / 1000;
    Atomics.add(ctrl, CTRL.DECODED, 1);
    Atomics.add(ctrl, CTRL.DONE + slot, 1);
    Atomics.notify(ctrl, CTRL.DONE + slot);
  }
}

async function main(): Promise<void> {
  // One libvips thread per decode: the pool's parallelism is its workers. No operation cache, so
  // memory does not grow with the number of distinct files.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as { concurrency(n: number): number; cache(on: boolean): unknown };
  sharp.concurrency(1);
  sharp.cache(false);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const decoder = require(init.decoder) as Decoder;
  const specs = decoder.sampleSpecs({ aug: init.spec.aug, size: init.spec.size, cropFraction: init.spec.cropFraction, maxPixels: init.spec.maxPixels });
  const spec = init.spec.split === 'train' ? specs.train : specs.eval;
  Atomics.add(ctrl, CTRL.READY, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL.RUN, seen);
    const run = Atomics.load(ctrl, CTRL.RUN);
    if (run < 0) break;
    seen = run;
    Atomics.add(ctrl, CTRL.ACTIVE, 1);
    try {
      if (!stopped(run)) await work(decoder, spec, run);
    } catch (e) {
      const f = e instanceof FatalError ? e : new FatalError(null, 'error', `decode worker ${init.index}: ${(e as Error).stack ?? e}`);
      post({ kind: 'error', phase: 'run', file: f.file, reason: f.reason, message: f.message });
      Atomics.store(ctrl, CTRL.ERROR, run);
      for (let s = 0; s < init.slots; s++) Atomics.notify(ctrl, CTRL.DONE + s);
    } finally {
      Atomics.sub(ctrl, CTRL.ACTIVE, 1);
      Atomics.notify(ctrl, CTRL.ACTIVE);
    }
  }
  port.close();
}

main().catch((e) => {
  post({ kind: 'error', phase: 'start', file: null, reason: 'error', message: `decode worker ${init.index} failed to start: ${(e as Error).stack ?? e}` });
  Atomics.add(ctrl, CTRL.DEAD, 1);
  for (let s = 0; s < init.slots; s++) Atomics.notify(ctrl, CTRL.DONE + s);
  port.close();
});
