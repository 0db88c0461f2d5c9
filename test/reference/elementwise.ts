// float64 references for native/cpu/elementwise.cc (kernels.h, "elementwise.cc"): plain loops,
// no shortcuts, so a kernel test compares against the definition itself.

/** alpha * a + beta * b */
export function add(a: ArrayLike<number>, b: ArrayLike<number>, alpha: number, beta: number): Float64Array {
  return Float64Array.from(a, (v, i) => alpha * v + beta * b[i]);
}

/** a * b */
export function mul(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v * b[i]);
}

/** alpha * x */
export function scale(x: ArrayLike<number>, alpha: number): Float64Array {
  return Float64Array.from(x, (v) => alpha * v);
}

/** n copies of alpha * s */
export function scalarBroadcast(s: number, alpha: number, n: number): Float64Array {
  return new Float64Array(n).fill(alpha * s);
}

/** y[o, c, i] = x[o, c, i] + bias[c] */
export function biasAdd(x: ArrayLike<number>, bias: ArrayLike<number>, outer: number, channels: number, inner: number): Float64Array {
  const y = new Float64Array(outer * channels * inner);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++)
      for (let i = 0; i < inner; i++) {
        const k = (o * channels + c) * inner + i;
        y[k] = x[k] + bias[c];
      }
  return y;
}

/** dbias[c] = sum over o, i of dy[o, c, i] */
export function biasAddBackward(dy: ArrayLike<number>, outer: number, channels: number, inner: number): Float64Array {
  const db = new Float64Array(channels);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++)
      for (let i = 0; i < inner; i++) db[c] += dy[(o * channels + c) * inner + i];
  return db;
}

/** y[o, c, i] = x[o, c, i] * scale[c] */
export function channelMul(x: ArrayLike<number>, s: ArrayLike<number>, outer: number, channels: number, inner: number): Float64Array {
  const y = new Float64Array(outer * channels * inner);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++)
      for (let i = 0; i < inner; i++) {
        const k = (o * channels + c) * inner + i;
        y[k] = x[k] * s[c];
      }
  return y;
}

/** dscale[c] = sum over o, i of dy[o, c, i] * x[o, c, i] */
export function channelMulBackwardScale(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  outer: number,
  channels: number,
  inner: number,
): Float64Array {
  const ds = new Float64Array(channels);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++)
      for (let i = 0; i < inner; i++) {
        const k = (o * channels + c) * inner + i;
        ds[c] += dy[k] * x[k];
      }
  return ds;
}
