// CrossEntropyLoss (torch.nn.CrossEntropyLoss): integer labels (int32) or soft targets.
import { crossEntropy, type Reduction } from '../autograd/ops/loss';
import type { Tensor } from '../tensor';

export class CrossEntropyLoss {
  constructor(readonly reduction: Reduction = 'mean') {}

  call(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, this.reduction);
  }
}
