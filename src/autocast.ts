// Autocast: PyTorch's automatic mixed precision (torch.autocast) for this library. Inside
// autocast({ dtype: 'bfloat16' }, fn), ops of the "low-precision" list (matmul, linear, conv2d)
// cast their floating-point operands to the autocast dtype and run there; ops of the "float32"
// list (softmax, log-softmax, cross-entropy, norms' statistics, reductions, the probe's |g| sums)
// cast low-precision inputs up to float32; every other op runs in its inputs' dtype (promoting
// mixed inputs to float32). Parameters stay float32 (master weights): the cast is recorded by
// autograd, so their gradients arrive in float32. Nested calls take the innermost setting.
import { ArgumentError } from './errors';
import { cast } from './autograd/ops/convert';
import type { Tensor } from './tensor';

export type AutocastDType = 'bfloat16' | 'float16';

export interface AutocastOptions {
  /** 'bfloat16' or 'float16' ('bf16' and 'fp16' are accepted too). */
  dtype: AutocastDType | 'bf16' | 'fp16';
  /** false runs fn without autocast (as torch.autocast(enabled=False)). */
  enabled?: boolean;
}

let current: AutocastDType | null = null;

/** Runs fn with autocast set as `options` says; restores the previous state afterwards. */
const ALIASES: Record<string, AutocastDType> = { bfloat16: 'bfloat16', bf16: 'bfloat16', float16: 'float16', fp16: 'float16' };

export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  const dtype = ALIASES[options.dtype as string];
  if (dtype === undefined) {
    throw new ArgumentError(`autocast: dtype must be 'bfloat16' ('bf16') or 'float16' ('fp16'), got ${JSON.stringify(options.dtype)}`);
  }
  const previous = current;
  current = options.enabled === false ? null : dtype;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** The active autocast dtype, or null outside autocast. */
export function autocastDType(): AutocastDType | null {
  return current;
}

/** For ops of the low-precision list: a floating-point operand in the autocast dtype (else as it is). */
export function castForLowPrecision(t: Tensor): Tensor;
export function castForLowPrecision(t: Tensor | null): Tensor | null;
export function castForLowPrecision(t: Tensor | null): Tensor | null {
  if (t === null || current === null || !t.isFloatingPoint || t.dtype === current) return t;
  return cast(t, current);
}

/** For ops of the float32 list: a low-precision operand cast to float32 (always, as PyTorch's fp32 ops under autocast). */
export function castForFloat32(t: Tensor): Tensor {
  if (current === null || !t.isFloatingPoint || t.dtype === 'float32') return t;
  return cast(t, 'float32');
}
