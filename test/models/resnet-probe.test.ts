// The probe on the full-size ResNet-50 (224px, batch 2, 2 batches of random inputs, the paper's
// init): the qualitative patterns of the paper's Figure 4. The stem convolution is among the
// three lowest eta and below its BatchNorm scale; in every bottleneck that does not downsample
// (12 of 16), the first 1x1 conv's eta is above the 3x3 conv's and the last 1x1 conv's. In the
// first block of each stage (with the downsample branch) conv1 sits below conv3 on random inputs
// (docs/profiles/resnet50.md), so those four are not asserted.
import { expect, test } from 'vitest';
import { probe } from '../../src/layerwise/probe';
import { createModel } from '../../src/models';
import { paperInit_ } from '../../src/nn/init';
import { Generator } from '../../src/random';
import { Tensor } from '../../src/tensor';

test('resnet50 probe (224px, batch 2, T=2): stem lowest and below its BN scale; bottleneck conv1 above conv2 and conv3', () => {
  const model = createModel('resnet50', { inputShape: [3, 224, 224], numClasses: 1000 });
  paperInit_(model.parameters(), { seed: 0, fanOut: 'pytorch' });
  const gen = new Generator(1);
  const result = probe(model, () => {
    const x = new Float32Array(2 * 3 * 224 * 224);
    for (let i = 0; i < x.length; i++) x[i] = gen.normal();
    const images = Tensor.fromArray(x, [2, 3, 224, 224]);
    const labels = Tensor.fromArray([gen.int(1000), gen.int(1000)], [2], { dtype: 'int32' });
    return { images, labels, dispose: () => { images.dispose(); labels.dispose(); } };
  }, { steps: 2 });
  const eta = new Map(result.entries.map((e) => [e.name, e.eta]));
  const order = [...result.entries].sort((a, b) => a.eta - b.eta).map((e) => e.name);
  expect(order.slice(0, 3)).toContain('conv1.weight');
  expect(eta.get('conv1.weight')!).toBeLessThan(eta.get('bn1.weight')!);
  const blocks = [...eta.keys()].map((n) => n.match(/^(layer\d\.(\d+))\.conv1\.weight$/)).filter((m) => m !== null && m[2] !== '0');
  expect(blocks.length).toBe(12);
  const failing = blocks.map((m) => m![1]).filter((b) => !(eta.get(`${b}.conv1.weight`)! > eta.get(`${b}.conv2.weight`)! && eta.get(`${b}.conv1.weight`)! > eta.get(`${b}.conv3.weight`)!));
  expect(failing).toEqual([]);
  model.dispose();
}, 120_000);
