// Reductions do not depend on the thread count: each kernel runs in a child process under
// OMP_NUM_THREADS=1 and under OMP_NUM_THREADS=2 (the addon has no thread control of its own; the
// OpenMP runtime reads the variable at start), and the float32 results must be bit-identical.
// Sizes span many OpenMP blocks, with a ragged tail.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';

const ADDON = path.join(__dirname, '..', '..', 'lib', 'native', 'addon.js');

// Runs in the child: seeded inputs (an LCG, so both children see the same data), every reducer,
// results printed as float32 bit patterns.
const CHILD = `
const { addon } = require(${JSON.stringify(ADDON)});
const k = addon.kernels;
let s = 12345;
const rand = (n) => Float32Array.from({ length: n }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s / 2 ** 32 - 0.5) * 3; });
const buf = (x) => { const b = new addon.NativeBuffer(0, Math.max(x.byteLength, 4)); if (x.length) k.copy_from_host(b, x, x.byteLength); return b; };
const read = (b, n) => { const o = new Float32Array(n); k.copy_to_host(o, b, n * 4); return Array.from(new Uint32Array(o.buffer), (v) => v.toString(16)); };
const out = {};
for (const n of [300001, 1048583]) {
  const x = rand(n);
  for (const r of ['reduce_sum', 'reduce_abs_sum', 'reduce_sum_squares']) {
    const o = buf(new Float32Array(1));
    k[r](o, buf(x), 'float32', n, 1 / n);
    out[r + ' n=' + n] = read(o, 1)[0];
  }
}
const numels = [5, 70001, 0, 300007, 1];
const xs = numels.map(rand);
const o = buf(new Float32Array(numels.length));
k.multi_reduce_abs_sum(o, xs.map(buf), numels, numels.map((n) => 1 / Math.max(n, 1)), numels.length);
out['multi_reduce_abs_sum'] = read(o, numels.length);
process.stdout.write(JSON.stringify(out));
`;

function runWithThreads(threads: number): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('reductions are independent of the OpenMP thread count', () => {
  test('reduce_sum / reduce_abs_sum / reduce_sum_squares n=300001,1048583 and multi_reduce_abs_sum: OMP_NUM_THREADS=1 vs 2 bit-identical', () => {
    const one = runWithThreads(1);
    const two = runWithThreads(2);
    expect(Object.keys(one)).toHaveLength(7);
    expect(two).toEqual(one);
  });
});
