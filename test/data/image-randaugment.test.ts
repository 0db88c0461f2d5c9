// Tests of src/data/image/randaugment*.ts against PIL + timm (fixtures from
// scripts/fixtures/gen-randaugment-fixtures.py on a 32x24 RGB image): every op with fixed
// arguments, byte-exact (point ops, the float32 blends of ImageEnhance, the SMOOTH filter, and
// the bilinear affine ops of Rotate/Shear/Translate alike; tolerance 0), timm's
// level-to-argument mapping at m = 10, 7, 3, the op list, and RandAugment's draws: n ops with
// replacement, each applied with probability p, deterministic per seed.
import { readFileSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';
import { RAND_TRANSFORMS, RandOpName, applyOp, levelToArg, randAugment } from '../../src/data/image/randaugment';
import { Generator } from '../../src/random';

const DIR = join(__dirname, '..', 'fixtures', 'randaugment');
const meta = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as {
  width: number;
  height: number;
  fill: [number, number, number];
  cases: { name: RandOpName; op: string; arg: number | null; file: string }[];
  levels: Record<string, Record<string, number | null>>;
  rand_transforms: string[];
};
const input = new Uint8Array(readFileSync(join(DIR, 'input.rgb')));
const GEOMETRIC = new Set(['Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']);

describe('RandAugment ops against PIL (timm.data.auto_augment)', () => {
  for (const c of meta.cases) {
    it(`${c.name}(${c.arg ?? ''}) ${GEOMETRIC.has(c.name) ? '(bilinear affine) ' : ''}byte-exact`, () => {
      const want = new Uint8Array(readFileSync(join(DIR, c.file)));
      const img = Uint8Array.from(input);
      applyOp(c.name, c.arg, img, meta.width, meta.height, meta.fill);
      let max = 0;
      for (let i = 0; i < img.length; i++) max = Math.max(max, Math.abs(img[i] - want[i]));
      expect(max).toBe(0);
      // The op changes the image (except timm's Solarize(256), a no-op at m = 10).
      const changed = img.some((v, i) => v !== input[i]);
      expect(changed).toBe(!(c.name === 'Solarize' && c.arg === 256));
    });
  }
});

describe("timm's level-to-argument mapping and op list", () => {
  it('the 15 ops of _RAND_TRANSFORMS in order', () => {
    expect([...RAND_TRANSFORMS]).toEqual(meta.rand_transforms);
  });

  it('|argument| at m = 10, 7, 3 equals timm LEVEL_TO_ARG; signed ops take both signs', () => {
    for (const name of RAND_TRANSFORMS) {
      for (const m of ['10', '7', '3']) {
        const want = meta.levels[name][m];
        const got = levelToArg(name, Number(m), new Generator(1));
        if (want === null) expect(got).toBeNull();
        else expect(Math.abs(got as number)).toBeCloseTo(want, 12);
      }
    }
    const g = new Generator(5);
    const signs = new Set<number>();
    for (let i = 0; i < 50; i++) signs.add(Math.sign(levelToArg('Rotate', 10, g) as number));
    expect([...signs].sort()).toEqual([-1, 1]);
  });
});

describe('randAugment', () => {
  const spec = { n: 2, m: 10, p: 0.5, mstd: 0 };

  it('same seed, same bytes and ops; ops drawn with replacement, each applied with probability 0.5', () => {
    const a = Uint8Array.from(input);
    const b = Uint8Array.from(input);
    expect(randAugment(a, 32, 24, spec, new Generator(11))).toEqual(randAugment(b, 32, 24, spec, new Generator(11)));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const counts = new Map<string, number>();
    let applied = 0;
    const trials = 3000;
    for (let s = 0; s < trials; s++) {
      const ops = randAugment(Uint8Array.from(input), 32, 24, spec, new Generator(1000 + s));
      applied += ops.length;
      for (const op of ops) {
        const name = op.replace(/\(.*/, '');
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    expect(applied / (2 * trials)).toBeGreaterThan(0.46);
    expect(applied / (2 * trials)).toBeLessThan(0.54);
    expect(counts.size).toBe(15);
    for (const k of counts.values()) expect(Math.abs(k / applied - 1 / 15)).toBeLessThan(0.02);
  });

  it('p = 1 applies exactly n ops, named with their arguments; p = 0 applies none', () => {
    const ops = randAugment(Uint8Array.from(input), 32, 24, { ...spec, n: 3, p: 1 }, new Generator(2));
    expect(ops).toHaveLength(3);
    for (const op of ops) expect(op).toMatch(/^[A-Za-z]+(\(-?[0-9.]+\))?$/);
    const img = Uint8Array.from(input);
    expect(randAugment(img, 32, 24, { ...spec, p: 0 }, new Generator(2))).toEqual([]);
    expect(Buffer.from(img).equals(Buffer.from(input))).toBe(true);
  });

  it('applying the reported ops in order with their arguments reproduces the output', () => {
    for (let s = 0; s < 20; s++) {
      const img = Uint8Array.from(input);
      const ops = randAugment(img, 32, 24, { ...spec, p: 1 }, new Generator(s));
      const ref = Uint8Array.from(input);
      for (const op of ops) {
        const m = /^([A-Za-z]+)(?:\((.*)\))?$/.exec(op)!;
        applyOp(m[1] as RandOpName, m[2] === undefined ? null : Number(m[2]), ref, 32, 24);
      }
      expect(Buffer.from(ref).equals(Buffer.from(img))).toBe(true);
    }
  });

  it('mstd > 0 varies the magnitude (clipped to [0, 10]); mstd > 100 samples it uniformly', () => {
    const args = new Set<string>();
    for (let s = 0; s < 40; s++) {
      for (const op of randAugment(Uint8Array.from(input), 32, 24, { n: 1, m: 9, p: 1, mstd: 0.5 }, new Generator(s))) args.add(op);
    }
    expect(args.size).toBeGreaterThan(20);
    for (const op of args) {
      const m = /^Rotate\((.*)\)$/.exec(op);
      if (m) expect(Math.abs(Number(m[1]))).toBeLessThanOrEqual(30);
    }
  });
});
