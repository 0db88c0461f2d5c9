// Losses (native family: loss): fused log-softmax + cross-entropy with integer class labels
// (int32) or soft targets (float32, e.g. mixup), reduction 'mean' | 'sum' | 'none' as
// torch.nn.functional.cross_entropy. Logits of any float dtype (computed in float, dlogits in the
// logits' dtype); under autocast they are cast to float32 first (cross_entropy is on PyTorch's
// autocast float32 list). Soft targets of another float dtype are read as float32.
import { castForFloat32 } from '../../autocast';
import { ArgumentError, DTypeError, ShapeError } from '../../errors';
import { kernels } from '../../native/addon';
import { Tensor, isFloatDType, requireFloat, requireSameDevice, shapeToString } from '../../tensor';
import { cast } from './convert';
import { record } from '../tape';
import { mean, sum } from './reduce';

export type Reduction = 'mean' | 'sum' | 'none';

/** Cross-entropy of logits (N, C) against labels (N) int32 or soft targets (N, C) float32. */
export function crossEntropy(input: Tensor, labelsOrTargets: Tensor, reduction: Reduction = 'mean'): Tensor {
  const op = 'cross_entropy';
  requireFloat(input, op, 'input');
  requireSameDevice(op, { input, target: labelsOrTargets });
  if (input.ndim !== 2) throw new ShapeError(`${op}: expected logits (N, C), got ${shapeToString(input.shape)}`);
  const logits = castForFloat32(input);
  const [rows, classes] = logits.shape;
  const soft = isFloatDType(labelsOrTargets.dtype);
  const target = soft && labelsOrTargets.dtype !== 'float32' ? cast(labelsOrTargets, 'float32') : labelsOrTargets;
  if (soft) {
    if (target.ndim !== 2 || target.shape[0] !== rows || target.shape[1] !== classes) {
      throw new ShapeError(`${op}: soft targets ${shapeToString(target.shape)} do not match logits ${shapeToString(logits.shape)}`);
    }
  } else {
    if (target.dtype !== 'int32') throw new DTypeError(`${op}: labels must be int32 (or float32 soft targets), got ${target.dtype}`);
    if (target.ndim !== 1 || target.shape[0] !== rows) {
      throw new ShapeError(`${op}: labels ${shapeToString(target.shape)} do not match logits ${shapeToString(logits.shape)}`);
    }
  }
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new ArgumentError(`${op}: unknown reduction '${reduction}'`);
  const losses = Tensor.empty([rows], { device: logits.device });
  const logProbs = Tensor.empty([rows, classes], { device: logits.device });
  const forward = soft ? kernels.soft_cross_entropy_forward : kernels.cross_entropy_forward;
  try {
    forward(losses.buffer, logProbs.buffer, logits.bufferFor(op), target.bufferFor(op), logits.dtype, rows, classes);
  } catch (e) {
    losses.dispose();
    logProbs.dispose();
    throw e;
  }
  const perRow = record(
    losses,
    op,
    [logits],
    (g) => {
      const dlogits = Tensor.emptyLike(logits);
      const backward = soft ? kernels.soft_cross_entropy_backward : kernels.cross_entropy_backward;
      backward(dlogits.buffer, g.buffer, logProbs.buffer, target.buffer, logits.dtype, rows, classes);
      return [dlogits];
    },
    [logProbs],
  );
  if (reduction === 'none') return perRow;
  return reduction === 'mean' ? mean(perRow) : sum(perRow);
}
