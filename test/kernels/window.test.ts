// Window kernels (native/cpu/window.cc) against the float64 references of test/reference/window.ts:
// the shifted window partition and reverse (inverse permutations, each the other's backward; pure
// data movement: exact in every dtype), the relative position bias gather (exact after the one
// rounding to the dtype) and its scatter-add backward (double accumulation, one float32 rounding),
// and the window mask add (one rounding to the dtype). Every kernel runs in float32, bfloat16 and float16 (inputs rounded to the
// dtype first). The scatter-add is checked bit-identical under OMP_NUM_THREADS=1 and 2.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { NativeError } from '../../src/errors';
import { expectClose } from '../helpers/compare';
import { FLOAT_DTYPES, ULP, emptyOf, f32, i32, kernels, readAs, readI32, roundTo, typed, type FloatName } from '../helpers/native';
import { randint, randn } from '../helpers/random';
import { dot, numericGradient } from '../reference/finite-difference';
import * as ref from '../reference/window';

const rand = (n: number, seed: number): Float32Array => Float32Array.from(randn(n, seed));
const EXACT = { atol: 0, rtol: 0 };
type Shape = ref.WindowShape & { shift: number };
const numel = (s: Shape): number => s.batch * s.h * s.w * s.c;
const args = (s: Shape) => [s.batch, s.h, s.w, s.c, s.ws, s.shift] as const;
type Mover = (y: unknown, x: unknown, dtype: string, ...a: number[]) => void;
const call = (name: string, y: unknown, x: unknown, dtype: string, s: Shape): void => (kernels[name as keyof typeof kernels] as unknown as Mover)(y, x, dtype, ...args(s));

const shapes: [string, Shape][] = [
  ['B=2 8x8 C=6 ws=4 shift=2 (the fixture case)', { batch: 2, h: 8, w: 8, c: 6, ws: 4, shift: 2 }],
  ['B=1 14x7 C=3 ws=7 shift=3 (non-square map)', { batch: 1, h: 14, w: 7, c: 3, ws: 7, shift: 3 }],
  ['B=3 8x12 C=5 ws=4 shift=0 (no shift)', { batch: 3, h: 8, w: 12, c: 5, ws: 4, shift: 0 }],
  ['B=1 6x6 C=2 ws=3 shift=-1 (negative roll)', { batch: 1, h: 6, w: 6, c: 2, ws: 3, shift: -1 }],
  ['B=2 4x8 C=1 ws=2 shift=9 (shift past the size, taken mod h and w)', { batch: 2, h: 4, w: 8, c: 1, ws: 2, shift: 9 }],
  ['B=2 56x56 C=16 ws=7 shift=3 (swin_tiny stage 1 sizes, parallel)', { batch: 2, h: 56, w: 56, c: 16, ws: 7, shift: 3 }],
];

describe('window partition / reverse', () => {
  for (const dtype of FLOAT_DTYPES) {
    shapes.forEach(([name, s], i) => {
      test(`partition and reverse ${dtype} ${name}`, () => {
        const n = numel(s);
        const x = roundTo(rand(n, 10 + i), dtype);
        const win = roundTo(rand(n, 30 + i), dtype);
        const run = (kernel: string, input: Float32Array): Float32Array => {
          const y = emptyOf(n, dtype);
          call(kernel, y, typed(input, dtype), dtype, s);
          return readAs(y, dtype, n);
        };
        // Data movement: every element is copied, none rounded.
        expectClose(run('window_partition_forward', x), ref.shiftedPartition(x, s, s.shift), EXACT, 'partition');
        expectClose(run('window_reverse_forward', win), ref.shiftedReverse(win, s, s.shift), EXACT, 'reverse');
        // The two are inverse permutations (so each one's backward is the other's forward).
        expectClose(run('window_reverse_forward', run('window_partition_forward', x)), x, EXACT, 'reverse(partition(x))');
        expectClose(run('window_partition_forward', run('window_reverse_forward', win)), win, EXACT, 'partition(reverse(w))');
      });
    });
  }
  test('the references are adjoint: <partition(x), g> = <x, shiftedReverse(g)> by finite differences (float64)', () => {
    const s: Shape = { batch: 1, h: 4, w: 4, c: 2, ws: 2, shift: 1 };
    const x = rand(numel(s), 1);
    const g = rand(numel(s), 2);
    const numeric = numericGradient((v) => dot(ref.shiftedPartition(v, s, s.shift), g), x);
    expectClose(ref.shiftedReverse(g, s, s.shift), numeric, { atol: 1e-8, rtol: 1e-8 });
  });
  test('partition then reverse is the identity (int32 data: the movers take any dtype)', () => {
    const s: Shape = { batch: 2, h: 14, w: 21, c: 3, ws: 7, shift: 3 };
    const n = numel(s);
    const x = randint(n, 1000, 4);
    const mid = i32(new Int32Array(n));
    const back = i32(new Int32Array(n).fill(-1));
    call('window_partition_forward', mid, i32(x), 'int32', s);
    call('window_reverse_forward', back, mid, 'int32', s);
    expectClose(readI32(back, n), x, EXACT);
    expectClose(readI32(mid, n), ref.shiftedPartition(x, s, s.shift), EXACT);
  });
  test('batch=0 is a no-op', () => {
    call('window_partition_forward', f32([]), f32([]), 'float32', { batch: 0, h: 8, w: 8, c: 4, ws: 4, shift: 2 });
  });
  test('h or w not a multiple of window_size, or window_size 0, is an error naming the sizes', () => {
    const err = (fn: () => void): NativeError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(NativeError);
        return e as NativeError;
      }
      throw new Error('expected a NativeError');
    };
    const e1 = err(() => call('window_reverse_forward', f32(new Float32Array(60)), f32(new Float32Array(60)), 'float32', { batch: 1, h: 5, w: 4, c: 3, ws: 4, shift: 0 }));
    expect(e1.message).toMatch(/window_reverse_forward.*multiples of window_size.*h=5, w=4, c=3, window_size=4/);
    const e2 = err(() => call('window_partition_forward', f32(new Float32Array(16)), f32(new Float32Array(16)), 'float32', { batch: 1, h: 4, w: 4, c: 1, ws: 0, shift: 0 }));
    expect(e2.message).toMatch(/window_size must be positive/);
  });
});

/** A random index (n*n) into num_rel rows (the timm index for square windows is one case). */
const indexCases: [string, number, number, Int32Array, number][] = [
  ['timm index ws=4 heads=3', 3, 16, ref.relativePositionIndex(4), 49],
  ['timm index ws=7 heads=160 (threaded over heads)', 160, 49, ref.relativePositionIndex(7), 169],
  ['timm index ws=7 heads=12', 12, 49, ref.relativePositionIndex(7), 169],
  ['random index n=5 heads=2 num_rel=7 (unused rows get 0)', 2, 5, Int32Array.from(randint(25, 5, 3)), 7],
];

describe('relative position bias', () => {
  for (const dtype of FLOAT_DTYPES) {
    indexCases.forEach(([name, heads, n, index, numRel], i) => {
      test(`forward/backward ${dtype} ${name}`, () => {
        const nn = n * n;
        const table = rand(numRel * heads, 40 + i);
        const y = emptyOf(heads * nn, dtype);
        kernels.relative_position_bias_forward(y, f32(table), i32(index), dtype, heads, n, numRel);
        // A gather, then the one rounding of the float32 table value to the dtype: exact.
        expectClose(readAs(y, dtype, heads * nn), roundTo(ref.relativePositionBias(table, index, heads, nn), dtype), EXACT, 'bias');
        const dy = roundTo(rand(heads * nn, 60 + i), dtype);
        const dtable = emptyOf(numRel * heads, 'float32');
        kernels.relative_position_bias_backward(dtable, typed(dy, dtype), i32(index), dtype, heads, n, numRel);
        // Sums of up to n*n dtype values in double, rounded once to float32: half an ulp.
        expectClose(readAs(dtable, 'float32', numRel * heads), ref.relativePositionBiasBackward(dy, index, heads, nn, numRel), { atol: 1e-12, rtol: ULP.float32 / 2 }, 'dtable');
      });
    });
  }
  test('the backward reference is the gradient of the forward reference (float64 finite differences)', () => {
    const [heads, n, numRel] = [2, 3, 5];
    const index = Int32Array.from(randint(9, numRel, 8));
    const dy = rand(heads * 9, 9);
    const numeric = numericGradient((t) => dot(ref.relativePositionBias(t, index, heads, 9), dy), rand(numRel * heads, 10));
    expectClose(ref.relativePositionBiasBackward(dy, index, heads, 9, numRel), numeric, { atol: 1e-8, rtol: 1e-8 });
  });
  test('an index outside [0, num_rel) is an error naming it', () => {
    const index = ref.relativePositionIndex(2);
    index[5] = 9;
    expect(() => kernels.relative_position_bias_forward(emptyOf(32, 'float32'), f32(new Float32Array(18)), i32(index), 'float32', 2, 4, 9)).toThrow(/index\[5\] = 9 is outside \[0, num_rel\).*num_rel=9/);
    index[5] = -1;
    expect(() => kernels.relative_position_bias_backward(emptyOf(18, 'float32'), f32(new Float32Array(32)), i32(index), 'float32', 2, 4, 9)).toThrow(/relative_position_bias_backward.*index\[5\] = -1/);
  });
  test('the scatter-add is bit-identical under OMP_NUM_THREADS=1 and 2 (ws=7, 128 heads)', () => {
    const addon = path.join(__dirname, '..', '..', 'lib', 'native', 'addon.js');
    const child = `
const { addon } = require(${JSON.stringify(addon)});
const k = addon.kernels;
const ws = 7, n = 49, heads = 128, numRel = 169; // 128 * 49^2 elements: over the kernel's threading threshold
const index = new Int32Array(n * n);
for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) index[i * n + j] = (Math.floor(i / ws) - Math.floor(j / ws) + ws - 1) * (2 * ws - 1) + (i % ws) - (j % ws) + ws - 1;
let s = 777;
const dy = Float32Array.from({ length: heads * n * n }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s / 2 ** 32 - 0.5) * 3; });
const buf = (x) => { const b = new addon.NativeBuffer(0, x.byteLength); k.copy_from_host(b, x, x.byteLength); return b; };
const out = buf(new Float32Array(numRel * heads));
k.relative_position_bias_backward(out, buf(dy), buf(index), 'float32', heads, n, numRel);
const o = new Float32Array(numRel * heads);
k.copy_to_host(o, out, o.byteLength);
process.stdout.write(Buffer.from(o.buffer).toString('hex'));
`;
    const run = (threads: number): string => {
      const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const one = run(1);
    expect(one.length).toBe(169 * 128 * 8);
    expect(run(2)).toBe(one);
  });
});

describe('window mask add', () => {
  const [batch, nW, heads, n] = [2, 4, 3, 16];
  const total = batch * nW * heads * n * n;
  const mask = ref.attnMask(8, 8, 4, 2);
  for (const dtype of FLOAT_DTYPES) {
    test(`forward ${dtype} B=2 nW=4 heads=3 n=16 (the fixture case), out of place and in place`, () => {
      const x = roundTo(rand(total, 70), dtype);
      const want = ref.windowMaskAdd(x, mask, batch, nW, heads, n * n);
      // One rounding of the float sum to the dtype: half an ulp of the result (float16 subnormals: 2^-25).
      const tol = { atol: dtype === 'float16' ? 2 ** -25 : 0, rtol: ULP[dtype] / 2 };
      const y = emptyOf(total, dtype);
      kernels.window_mask_add_forward(y, typed(x, dtype), f32(mask), dtype, batch, nW, heads, n);
      expectClose(readAs(y, dtype, total), want, tol, 'y');
      const inPlace = typed(x, dtype);
      kernels.window_mask_add_forward(inPlace, inPlace, f32(mask), dtype, batch, nW, heads, n);
      expectClose(readAs(inPlace, dtype, total), want, tol, 'y in place');
    });
  }
});
