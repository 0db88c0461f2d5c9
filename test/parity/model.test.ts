// PyTorch parity for a composed model with PyTorch parameter names: a small CNN
// (conv-bn-relu x2, global pool, linear) in train mode, weights loaded through loadStateDict
// from the fixture; logits, loss, every parameter gradient and the BN running statistics after
// the step must match (atol 2e-5, rtol 2e-4).
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { F, Tensor, nn, scope } from '../../src/index';
import { expectClose } from '../helpers/compare';
import { FIXTURES, loadFixture } from '../helpers/fixtures';

const TOL = { atol: 2e-5, rtol: 2e-4 };

test('model_cnn_small: logits, loss, grads and running stats match PyTorch', () =>
  scope(() => {
    const fx = loadFixture(path.join(FIXTURES, 'ops', 'model_cnn_small.safetensors'));
    const model = new nn.Sequential(
      ['conv1', new nn.Conv2d(1, 4, 3, { padding: 1 })],
      ['bn1', new nn.BatchNorm2d(4)],
      ['relu1', new nn.ReLU()],
      ['conv2', new nn.Conv2d(4, 8, 3, { stride: 2, padding: 1, bias: false })],
      ['bn2', new nn.BatchNorm2d(8)],
      ['relu2', new nn.ReLU()],
      ['pool', new nn.AdaptiveAvgPool2d(1)],
      ['flatten', new nn.Flatten()],
      ['fc', new nn.Linear(8, 3)],
    );
    const params: string[] = JSON.parse(fx.metadata.params);
    const buffers: string[] = JSON.parse(fx.metadata.buffers);
    expect(model.namedParameters().map(([n]) => n)).toEqual(params);
    const state = new Map<string, Tensor>();
    for (const n of params) state.set(n, fx.tensor(`param.${n}`));
    for (const n of buffers) state.set(n, fx.tensor(`buffer.${n}`));
    model.loadStateDict(state);
    const logits = model.call(fx.tensor('in.x'));
    const loss = F.crossEntropy(logits, fx.tensor('in.labels'));
    expectClose(logits.toArray(), fx.floats('out'), TOL, 'logits');
    expectClose([loss.item()], fx.floats('loss'), TOL, 'loss');
    loss.backward();
    for (const [n, p] of model.namedParameters()) expectClose(p.grad!.toArray(), fx.floats(`grad.${n}`), TOL, `grad.${n}`);
    const sd = model.stateDict();
    for (const n of buffers) {
      const after = fx.has(`after.${n}`) ? fx.floats(`after.${n}`) : null;
      if (after) expectClose(sd.get(n)!.toArray(), after, TOL, `after.${n}`);
    }
    model.dispose();
  }));
