// float64 references for native/cpu/activation.cc: ReLU, GELU (erf form), softmax, dropout.
// JavaScript has no erf, so erf/erfc are computed here to about 1e-14: the Taylor series below
// z = 2.5 and the Laplace continued fraction of erfc above it.
// References: torch.nn.GELU(approximate='none'), torch.nn.Softmax, torch.nn.Dropout
// (https://pytorch.org/docs/stable/nn.html); the dropout hash is the contract of kernels.h,
// spelled out in native/cpu/activation.cc.

const SQRT_PI = Math.sqrt(Math.PI);

/** erf(z) by its Taylor series (accurate for |z| < 2.5). */
function erfSeries(z: number): number {
  let term = z; // (-1)^n z^(2n+1) / n!
  let sum = z;
  for (let n = 1; n < 200; n++) {
    term *= (-z * z) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * sum;
}

/** erfc(z) for z >= 0. */
export function erfc(z: number): number {
  if (z < 2.5) return 1 - erfSeries(z);
  // erfc(z) = exp(-z^2) / sqrt(pi) / (z + (1/2) / (z + (2/2) / (z + (3/2) / (z + ...))))
  let k = z;
  for (let n = 200; n >= 1; n--) k = z + n / 2 / k;
  return Math.exp(-z * z) / (SQRT_PI * k);
}

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  return x >= 0 ? 1 - 0.5 * erfc(x / Math.SQRT2) : 0.5 * erfc(-x / Math.SQRT2);
}

export function relu(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => (v > 0 ? v : 0));
}

/** dx = dy where y > 0, else 0 */
export function reluBackward(dy: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  return Float64Array.from(dy, (g, i) => (y[i] > 0 ? g : 0));
}

/** x * Phi(x) */
export function gelu(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => v * normalCdf(v));
}

/** dx = dy * (Phi(x) + x * phi(x)) */
export function geluBackward(dy: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  return Float64Array.from(dy, (g, i) => {
    const v = x[i];
    return g * (normalCdf(v) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI));
  });
}

/** Row-wise softmax of a (rows, cols) matrix. */
export function softmax(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j] - m);
    for (let j = 0; j < cols; j++) y[r * cols + j] = Math.exp(x[r * cols + j] - m) / s;
  }
  return y;
}

/** dx = y * (dy - sum_j dy_j y_j) per row. */
export function softmaxBackward(dy: ArrayLike<number>, y: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += dy[r * cols + j] * y[r * cols + j];
    for (let j = 0; j < cols; j++) dx[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - s);
  }
  return dx;
}

const MASK64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

function splitmix64(z: bigint): bigint {
  z = (z + GOLDEN) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** The dropout keep mask (1 = kept) of n elements: u_i = (h_i >> 40) * 2^-24 >= p. */
export function dropoutMask(n: number, p: number, seed: number, offset: number): Uint8Array {
  const s = BigInt.asUintN(64, BigInt(seed));
  const pf = Math.fround(p);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const counter = BigInt.asUintN(64, BigInt(offset) + BigInt(i) + 1n);
    const h = splitmix64(s ^ ((counter * GOLDEN) & MASK64));
    const u = Number(h >> 40n) * 2 ** -24;
    mask[i] = u >= pf ? 1 : 0;
  }
  return mask;
}

/** y = mask ? x / (1 - p) : 0 (all zeros for p = 1). */
export function dropout(x: ArrayLike<number>, mask: ArrayLike<number>, p: number): Float64Array {
  return Float64Array.from(x, (v, i) => (mask[i] && p < 1 ? v / (1 - p) : 0));
}

/** The drop-path keep mask of a batch: one dropout draw per sample (counter offset + i + 1). */
export function dropPathMask(batch: number, p: number, seed: number, offset: number): Uint8Array {
  return dropoutMask(batch, p, seed, offset);
}

/** y[i, :] = mask[i] ? x[i, :] / (1 - p) : 0 for x (batch, inner). */
export function dropPath(x: ArrayLike<number>, mask: ArrayLike<number>, p: number, inner: number): Float64Array {
  return Float64Array.from(x, (v, k) => (mask[Math.floor(k / inner)] && p < 1 ? v / (1 - p) : 0));
}
