// The full-size models run: resnet50, vit_small_patch16_224, convnext_tiny and
// swin_tiny_patch4_window7_224 on one 224px batch of 2, resnet50_cifar and davidnet on 32px
// batches of 2, forward and backward in train mode on CPU, NCHW and then channels-last (one model
// per architecture, built once): the logits have the head's shape, the loss is finite, and every
// parameter gets a finite gradient of its shape.
import { expect, test } from 'vitest';
import { F, Tensor, scope } from '../../src/index';
import { MODELS, createModel } from '../../src/models';
import { normal_ } from '../../src/nn/init';
import { allFinite } from '../helpers/model-parity';

test.each([
  ['resnet50', 224], ['resnet50_cifar', 32], ['davidnet', 32],
  ['vit_small_patch16_224', 224], ['convnext_tiny', 224], ['swin_tiny_patch4_window7_224', 224],
] as const)(
  '%s at %ipx, batch 2, NCHW and channels-last: forward + backward give finite gradients of the right shapes', (name, size) =>
    scope(() => {
      const entry = MODELS[name];
      const model = createModel(name, { inputShape: [3, size, size], numClasses: entry.numClasses });
      const labels = Tensor.fromArray(Int32Array.of(1, 3), [2], { dtype: 'int32' });
      for (const format of ['contiguous', 'channelsLast'] as const) {
        scope(() => {
          model.to({ memoryFormat: format });
          const logits = model.call(normal_(Tensor.zeros([2, 3, size, size])));
          expect(logits.shape).toEqual([2, entry.numClasses]);
          const loss = F.crossEntropy(logits, labels);
          expect(Number.isFinite(loss.item()), format).toBe(true);
          loss.backward();
          for (const [n, p] of model.namedParameters()) {
            expect(p.grad?.shape, `${format} ${n}`).toEqual(p.shape);
            expect(allFinite(p.grad!.toArray() as Float32Array), `${format} ${n}: finite`).toBe(true);
          }
          model.zeroGrad();
        });
      }
      model.dispose();
    }), 120_000);
