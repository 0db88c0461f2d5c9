// Operands of ops on PyTorch's autocast lower-precision list (conv2d, matmul, linear): under
// autocast every float operand is cast to the autocast dtype (castForLowPrecision, recorded by
// autograd so float32 parameters get float32 gradients); outside it, operands must already share
// one dtype, and a mismatch is an error naming both (as PyTorch's "expected scalar type" error).
import { castForLowPrecision } from '../../autocast';
import { DTypeError } from '../../errors';
import { requireFloat, type Tensor } from '../../tensor';

/** Checks the operands are float tensors, applies autocast, and checks they share a dtype. */
export function lowPrecisionOperands<T extends Record<string, Tensor | null>>(op: string, operands: T): T {
  const out: Record<string, Tensor | null> = {};
  let first: [string, Tensor] | null = null;
  for (const [name, t] of Object.entries(operands)) {
    if (t === null) {
      out[name] = null;
      continue;
    }
    requireFloat(t, op, name);
    const cast = castForLowPrecision(t);
    if (first === null) first = [name, cast];
    else if (cast.dtype !== first[1].dtype) {
      throw new DTypeError(`${op}: ${first[0]} is ${first[1].dtype} but ${name} is ${cast.dtype}; cast one of them or run under autocast`);
    }
    out[name] = cast;
  }
  return out as T;
}
