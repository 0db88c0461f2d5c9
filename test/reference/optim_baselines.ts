// float64 references for the baseline kernels (native/cpu/optim_baselines.cc, reduce.cc's
// multi_reduce_sum_squares): per-tensor sums of squares, y = a*y + b*x, and LAMB's direction.

export function multiSumSquares(xs: ArrayLike<number>[], scales: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs, (x, t) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return s * scales[t];
  });
}

export function axpby(y: ArrayLike<number>, x: ArrayLike<number>, alpha: number, beta: number): Float64Array {
  return Float64Array.from(y, (v, i) => alpha * v + beta * x[i]);
}

export interface LambOptions {
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  weightDecay: number;
}

/** m, v and r = m_hat / (sqrt(v_hat) + eps) + wd * w for one tensor. */
export function lambDirection(g: ArrayLike<number>, m: ArrayLike<number>, v: ArrayLike<number>, w: ArrayLike<number>, o: LambOptions) {
  const bc1 = 1 - o.beta1 ** o.step;
  const bc2 = 1 - o.beta2 ** o.step;
  const m2 = Float64Array.from(m, (mi, i) => o.beta1 * mi + (1 - o.beta1) * g[i]);
  const v2 = Float64Array.from(v, (vi, i) => o.beta2 * vi + (1 - o.beta2) * g[i] * g[i]);
  const r = Float64Array.from(m2, (mi, i) => mi / bc1 / (Math.sqrt(v2[i] / bc2) + o.eps) + o.weightDecay * w[i]);
  return { m: m2, v: v2, r, bc1, bc2 };
}
