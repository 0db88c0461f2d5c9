// float64 references for native/cpu/reduce.cc: full reductions to a scalar and the per-tensor
// mean |x| of a list of tensors.

export function sum(x: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s * scale;
}

export function absSum(x: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
  return s * scale;
}

export function sumSquares(x: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s * scale;
}

/** out[t] = scales[t] * sum |xs[t]| */
export function multiAbsSum(xs: ArrayLike<number>[], scales: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs, (x, t) => absSum(x, scales[t]));
}
