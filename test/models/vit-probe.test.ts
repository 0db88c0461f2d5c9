// The probe on the full-size vit_small_patch16_224 (paper init, seed 0; batch 2, T = 4 batches of
// fixed random 3x224x224 images, 1000 classes) on CPU, and the paper's qualitative pattern for
// ViT: in most blocks the query and key weights get a larger eta than the value and output
// projection weights; the class token's eta is below the patch embedding's. The attention key
// biases (blocks.N.attn.k.bias: 12 tensors, 4,608 parameters) have an exactly zero gradient in
// exact arithmetic (softmax is invariant to a per-query shift), so their G is rounding noise: the
// degenerate rule must name them (eta 1, outside the normalization), and the table's footer
// counts their parameters.
import { expect, test } from 'vitest';
import { Tensor, scope } from '../../src/index';
import { createModel } from '../../src/models';
import { normal_, paperInit_ } from '../../src/nn/init';
import { probe } from '../../src/layerwise/probe';
import { degenerateSummary, formatProfileTable } from '../../src/layerwise/profile';
import { Generator } from '../../src/random';

test('vit_small_patch16_224 probe: q/k eta above v/proj in most blocks, class token below the patch embedding, key biases degenerate', () =>
  scope(() => {
    const model = createModel('vit_small_patch16_224', { inputShape: [3, 224, 224], numClasses: 1000 });
    paperInit_(model.parameters(), { seed: 0 });
    const gen = new Generator(7);
    const result = probe(model, (t) => ({
      images: normal_(Tensor.zeros([2, 3, 224, 224]), 0, 1, gen),
      labels: Tensor.fromArray(Int32Array.of((37 * t) % 1000, (101 * t + 5) % 1000), [2], { dtype: 'int32' }),
    }), { steps: 4, zeroGradient: 'fallback' });
    const eta = new Map(result.entries.map((e) => [e.name, e]));

    const kBias = result.entries.filter((e) => /^blocks\.\d+\.attn\.k\.bias$/.test(e.name));
    expect(kBias.length).toBe(12);
    for (const e of kBias) expect(e.degenerate, `${e.name} (G ${e.G})`).toBeDefined();
    const d = degenerateSummary(result.entries);
    expect(d.names.sort()).toEqual(kBias.map((e) => e.name).sort());
    expect(d.params).toBe(4608);
    const table = formatProfileTable({
      format: 'layerwise-eta/1', model: 'vit_small_patch16_224', steps: 4, batchSize: 2, seed: 0, data: 'random', reduce: 'mean', params: result.entries,
    });
    expect(table).toMatch(/degenerate: 12 tensor\(s\), 4,608 parameters/);

    let qkAbove = 0;
    for (let i = 0; i < 12; i++) {
      const w = (p: string) => eta.get(`blocks.${i}.attn.${p}.weight`)!.eta;
      if (Math.min(w('q'), w('k')) > Math.max(w('v'), w('proj'))) qkAbove++;
    }
    expect(qkAbove, 'blocks where q and k weights have a larger eta than v and proj').toBeGreaterThanOrEqual(9);
    expect(eta.get('cls_token')!.eta).toBeLessThan(eta.get('patch_embed.proj.weight')!.eta);
    model.dispose();
  }), 180_000);
