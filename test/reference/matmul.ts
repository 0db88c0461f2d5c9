// Float64 reference for matmul_batched: c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i], row-major,
// with element strides between batch entries (0 broadcasts one matrix). The gradient of a matmul
// is itself a matmul (dA = dC @ op(B)^T, dB = op(A)^T @ dC), so matmul_batched has no separate
// backward kernel and this file no backward reference.

export interface MatmulArgs {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

/** Element counts the kernel needs for a, b and c (kernels.h's shape comments). */
export function matmulSizes(p: MatmulArgs): { a: number; b: number; c: number } {
  const span = (stride: number, size: number) => (p.batch === 0 ? 0 : (p.batch - 1) * stride + size);
  return { a: span(p.strideA, p.m * p.k), b: span(p.strideB, p.k * p.n), c: span(p.strideC, p.m * p.n) };
}

/**
 * Returns a copy of `c` with every batch entry updated; elements between entries (a stride_c
 * larger than m * n) are left as they were. beta == 0 ignores the old values (NaN included).
 */
export function matmulBatched(c: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, p: MatmulArgs): Float64Array {
  const out = Float64Array.from(c);
  for (let t = 0; t < p.batch; t++) {
    const a0 = t * p.strideA;
    const b0 = t * p.strideB;
    const c0 = t * p.strideC;
    for (let i = 0; i < p.m; i++)
      for (let j = 0; j < p.n; j++) {
        let sum = 0;
        for (let l = 0; l < p.k; l++) {
          const av = p.transA ? a[a0 + l * p.m + i] : a[a0 + i * p.k + l];
          const bv = p.transB ? b[b0 + j * p.k + l] : b[b0 + l * p.n + j];
          sum += av * bv;
        }
        const old = p.beta === 0 ? 0 : p.beta * out[c0 + i * p.n + j];
        out[c0 + i * p.n + j] = p.alpha * sum + old;
      }
  }
  return out;
}
