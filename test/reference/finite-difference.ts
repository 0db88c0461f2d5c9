// Central finite differences in float64, used to verify the hand-written backward references of
// test/reference/*.ts against their forward references.

/** d loss / d x by central differences: (loss(x + eps e_i) - loss(x - eps e_i)) / (2 eps). */
export function numericGradient(loss: (x: Float64Array) => number, x: ArrayLike<number>, eps = 1e-6): Float64Array {
  const work = Float64Array.from(x);
  const grad = new Float64Array(work.length);
  for (let i = 0; i < work.length; i++) {
    const original = work[i];
    work[i] = original + eps;
    const plus = loss(work);
    work[i] = original - eps;
    const minus = loss(work);
    work[i] = original;
    grad[i] = (plus - minus) / (2 * eps);
  }
  return grad;
}

/** sum_i a[i] * b[i]: turns an output and a fixed upstream gradient into a scalar loss. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
