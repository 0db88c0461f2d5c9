// Conversions between dtypes and memory formats (native family: copy, kernels cast and permute),
// recorded by autograd: the gradient is converted back to the input's dtype and format, as
// PyTorch's tensor.to(dtype) and tensor.contiguous(memory_format=...) do. Autocast (autocast.ts)
// uses these to send float32 operands to low-precision kernels and back.
import { ArgumentError, DTypeError } from '../../errors';
import { Tensor, convertRaw, isFloatDType, shapeToString, type DType, type MemoryFormat } from '../../tensor';
import { record } from '../tape';

/** x in `dtype` and `format`; x itself when both already match. */
export function convert(x: Tensor, dtype: DType, format: MemoryFormat): Tensor {
  if (dtype === x.dtype && format === x.memoryFormat) return x;
  if (format === 'channelsLast' && x.ndim !== 4) {
    throw new ArgumentError(`to: channelsLast needs a 4-D tensor, got shape ${shapeToString(x.shape)}`);
  }
  if (x.requiresGrad && !isFloatDType(dtype)) {
    throw new DTypeError(`to: cannot convert a tensor that requires grad to ${dtype} (only floating-point types carry gradients)`);
  }
  const y = convertRaw(x, dtype, format);
  const fromDtype = x.dtype;
  const fromFormat = x.memoryFormat;
  return record(y, 'to', [x], (g) => [convertRaw(g, fromDtype, fromFormat)]);
}

/** x cast to `dtype` (same format). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return convert(x, dtype, x.memoryFormat);
}
