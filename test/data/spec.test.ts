// Tests of src/data/spec.ts: each accepted form of parseDataSpec, paths with ':', and the
// ArgumentError (listing the accepted forms) for unknown or malformed specs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_SPEC_FORMS, DEFAULT_FASHION_MNIST_DIR, parseDataSpec } from '../../src/data/spec';
import { ArgumentError, FileFormatError } from '../../src/errors';
import { writeSafetensors } from '../../src/io/safetensors';
import { cifarBytes, pixelBytes, tempDir, writeFile, writeIdxSplit } from './formats';

const dir = tempDir('spec');

describe('parseDataSpec', () => {
  it('synthetic, synthetic:N, synthetic:N:CxHxW:K (test split: max(K, N/4) samples)', () => {
    const def = parseDataSpec('synthetic').load('train');
    expect([def.size, def.channels, def.height, def.width, def.numClasses]).toEqual([1024, 3, 32, 32, 10]);
    expect(parseDataSpec('synthetic:64').load('test').size).toBe(16);
    const small = parseDataSpec('synthetic:40:1x28x28:5');
    expect(small.kind).toBe('synthetic');
    const ds = small.load('train');
    expect([ds.size, ds.channels, ds.height, ds.width, ds.numClasses]).toEqual([40, 1, 28, 28, 5]);
  });

  it('mnist:DIR and fashion-mnist:DIR read IDX files with their statistics; DIR may contain ":"', () => {
    const d = path.join(dir, 'with:colon');
    fs.mkdirSync(d);
    writeIdxSplit(d, 'train', pixelBytes(2 * 4), [1, 2], 2, 2, true);
    const m = parseDataSpec(`mnist:${d}`).load('train');
    expect([m.name, m.size, m.kind === 'u8' && m.normalization.mean[0]]).toEqual(['mnist-train', 2, 0.1307]);
    const f = parseDataSpec(`fashion-mnist:${d}`).load('train');
    expect([f.name, f.kind === 'u8' && f.normalization.std[0]]).toEqual(['fashion-mnist-train', 0.353]);
    expect(() => parseDataSpec(`mnist:${d}`).load('test')).toThrow(FileFormatError);
  });

  it(`fashion-mnist without DIR uses ${DEFAULT_FASHION_MNIST_DIR}`, () => {
    const src = parseDataSpec('fashion-mnist');
    expect(src.kind).toBe('fashion-mnist');
    if (!fs.existsSync(DEFAULT_FASHION_MNIST_DIR)) {
      expect(() => src.load('test')).toThrow(DEFAULT_FASHION_MNIST_DIR);
    }
  });

  it('cifar10:DIR, cifar100:DIR and tensors:FILE', () => {
    writeFile(dir, 'cifar-100-binary/train.bin', cifarBytes([[3, 33]], pixelBytes(3072)));
    expect([...parseDataSpec(`cifar100:${dir}`).load('train').labels]).toEqual([33]);
    writeFile(dir, 'test_batch.bin', cifarBytes([[7]], pixelBytes(3072)));
    expect([...parseDataSpec(`cifar10:${dir}`).load('test').labels]).toEqual([7]);
    const file = path.join(dir, 'd.safetensors');
    writeSafetensors(file, { images: { dtype: 'F32', shape: [1, 1, 2, 2], data: new Float32Array(4) }, labels: { dtype: 'I64', shape: [1], data: new BigInt64Array(1) } });
    expect(parseDataSpec(`tensors:${file}`).load('train').kind).toBe('f32');
  });

  it('unknown dataset, missing DIR and malformed synthetic fields are ArgumentErrors listing the accepted forms', () => {
    for (const [spec, why] of [
      ['coco:/data', /unknown dataset 'coco'/],
      ['imagenet', /imagenet needs a directory/],
      ['cifar10', /cifar10 needs a directory/],
      ['tensors:', /tensors needs a .safetensors file/],
      ['synthetic:0', /N '0' is not a positive integer/],
      ['synthetic:10:3x32', /shape '3x32' is not CxHxW/],
      ['synthetic:10:1x2x2:3:9', /too many fields/],
    ] as const) {
      let err: unknown;
      try {
        parseDataSpec(spec);
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(why);
      for (const form of DATA_SPEC_FORMS) expect((err as Error).message).toContain(form);
    }
  });
});
