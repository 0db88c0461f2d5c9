// Memory: 300 training steps of a small CNN (conv-bn-relu x2, pool, linear; SGD momentum 0.9 with
// weight decay) inside scope() keep the number of live native buffers constant after the first
// step, and resident memory grows by less than 50 MB.
import { expect, test } from 'vitest';
import { F, Tensor, manualSeed, memory, nn, scope } from '../../src/index';
import { SGD } from '../../src/optim/sgd';
import { randint, randn } from '../helpers/random';

test('300 CNN train steps: live buffers constant, RSS growth < 50 MB', () => {
  const before = memory().liveBuffers;
  manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(),
    new nn.Conv2d(8, 16, 3, { stride: 2, padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(16, 10),
  );
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const images = randn(16 * 144, 1);
  const labels = randint(16, 10, 2);
  const step = (): number =>
    scope(() => {
      const x = Tensor.fromArray(images, [16, 1, 12, 12]);
      const y = Tensor.fromArray(labels, [16], { dtype: 'int32' });
      opt.zeroGrad();
      const loss = F.crossEntropy(model.call(x), y);
      loss.backward();
      opt.step();
      return loss.item();
    });
  const first = step();
  const buffersAfterFirst = memory().liveBuffers;
  const rssAfterFirst = process.memoryUsage().rss;
  let last = first;
  const counts: number[] = [];
  for (let i = 1; i < 300; i++) {
    last = step();
    counts.push(memory().liveBuffers);
  }
  expect(new Set(counts)).toEqual(new Set([buffersAfterFirst]));
  const growthMB = (process.memoryUsage().rss - rssAfterFirst) / 2 ** 20;
  expect(growthMB).toBeLessThan(50);
  expect(last).toBeLessThan(first);
  opt.dispose();
  model.dispose();
  expect(memory().liveBuffers).toBe(before);
});
