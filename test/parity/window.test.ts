// PyTorch / timm parity of the window ops (src/autograd/ops/window.ts) against
// test/fixtures/window (scripts/fixtures/gen-window-fixtures.py: timm's window_partition,
// window_reverse, torch.roll, relative_position_index, _get_rel_pos_bias and attn_mask), float32
// and bfloat16, B=2, H=W=8, ws=4, shift 2, C=6, heads 3: outputs and the gradients of a random
// projection. Partition, reverse, the bias gather and the mask add are exact (data movement, one
// rounding of the same float sum); the bias table gradient is a float32 scatter-add in PyTorch and a
// double one here: atol 1e-6 + rtol 1e-5. Also timm's index for window 7 and its mask for
// swin_tiny's first stage (56x56, ws 7, shift 3), exactly.
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import * as F from '../../src/functional';
import { Tensor, scope } from '../../src/index';
import { expectClose } from '../helpers/compare';
import { FIXTURES, loadFixture } from '../helpers/fixtures';
import * as ref from '../reference/window';

const dir = path.join(FIXTURES, 'window');
const EXACT = { atol: 0, rtol: 0 };
const TABLE_GRAD = { atol: 1e-6, rtol: 1e-5 };
const maskFromBits = (bits: Float32Array): Float32Array => bits.map((b) => (b ? -100 : 0));

describe('timm parity: shifted windows, relative position bias, attention mask', () => {
  for (const dtype of ['float32', 'bfloat16'] as const) {
    test(`small case ${dtype}: outputs and gradients`, () =>
      scope(() => {
        const fx = loadFixture(path.join(dir, `small_${dtype}.safetensors`));
        const meta = (k: string): number => Number(fx.metadata[k]);
        const [H, W, ws, shift, heads] = [meta('H'), meta('W'), meta('window_size'), meta('shift'), meta('heads')];
        const n = ws * ws;
        const input = (name: string, d: 'float32' | 'bfloat16' = dtype): Tensor => {
          const e = fx.entries.get(name)!;
          return Tensor.fromArray(fx.floats(name), e.shape, { dtype: d, requiresGrad: true });
        };
        const proj = (name: string): Tensor => Tensor.fromArray(fx.floats(`proj.${name}`), fx.entries.get(`proj.${name}`)!.shape, { dtype });
        const x = input('in.x');
        const windows = input('in.windows');
        const attn = input('in.attn');
        const table = input('in.table', 'float32');
        // The index and the mask from the host helpers, checked against timm's buffers.
        const index = F.relativePositionIndexTensor(ws);
        expectClose(index.toArray(), fx.tensor('index').toArray(), EXACT, 'relative_position_index');
        const mask = F.shiftedWindowMask(H, W, ws, shift);
        expect(mask.shape).toEqual([(H / ws) * (W / ws), n, n]);
        expectClose(mask.toArray(), maskFromBits(fx.floats('mask')), EXACT, 'attn_mask');

        const outs: Record<string, Tensor> = {
          partition: F.windowPartition(x, ws, shift),
          reverse: F.windowReverse(windows, ws, H, W, shift),
          bias: F.relativePositionBias(table, index, n, { dtype }),
          mask_add: F.windowMaskAdd(attn, mask),
        };
        for (const [name, out] of Object.entries(outs)) {
          expect(out.dtype).toBe(dtype);
          expect(out.shape, name).toEqual(fx.entries.get(`out.${name}`)!.shape);
          expectClose(out.toArray(), fx.floats(`out.${name}`), EXACT, `out.${name}`);
          out.backward(proj(name));
        }
        for (const [name, t] of [['x', x], ['windows', windows], ['attn', attn]] as const) {
          expect(t.grad!.dtype).toBe(dtype);
          expectClose(t.grad!.toArray(), fx.floats(`grad.${name}`), EXACT, `grad.${name}`);
        }
        expect(table.grad!.dtype).toBe('float32');
        expectClose(table.grad!.toArray(), fx.floats('grad.table'), TABLE_GRAD, 'grad.table');
        for (const t of [x, windows, attn, table]) t.grad?.dispose();
      }));
  }
  test("swin_tiny: relativePositionIndex(7) and shiftedWindowMask(56, 56, 7, 3) equal timm's buffers", () => {
    const fx = loadFixture(path.join(dir, 'swin_tiny.safetensors'));
    const index7 = Int32Array.from(fx.floats('index7'));
    expect(fx.entries.get('index7')!.shape).toEqual([49, 49]);
    expectClose(F.relativePositionIndex(7), index7, EXACT, 'index7');
    expectClose(ref.relativePositionIndex(7), index7, EXACT, 'reference index7');
    const mask56 = maskFromBits(fx.floats('mask56'));
    expect(fx.entries.get('mask56')!.shape).toEqual([64, 49, 49]);
    expectClose(F.shiftedWindowMaskArray(56, 56, 7, 3), mask56, EXACT, 'mask56');
    expectClose(ref.attnMask(56, 56, 7, 3), mask56, EXACT, 'reference mask56');
  });
});
