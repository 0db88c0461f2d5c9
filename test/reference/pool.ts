// Float64 references for the pooling kernels (NCHW), following PyTorch:
//   * MaxPool2d: padding acts as -inf; the index is the first maximum's position within its
//     (in_h * in_w) plane (a NaN counts as a maximum); the backward routes dy to that position.
//   * AvgPool2d: the window is clipped to the padded input (so ceil_mode windows past it shrink);
//     the divisor counts padding when count_include_pad, else only the input elements.
//   * Global average pooling (AdaptiveAvgPool2d(1)): mean over the hw positions.

export interface Pool2dShape {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/** PyTorch's pooled size for one dimension (ceil_mode: the last window must start inside input or left padding). */
export function poolOutSize(inSize: number, kernel: number, stride: number, pad: number, ceilMode = false): number {
  const span = inSize + 2 * pad - kernel;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + pad) out--;
  return out;
}

export function pool2dShape(o: {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  kernel: [number, number];
  stride?: [number, number];
  pad?: [number, number];
  ceilMode?: boolean;
}): Pool2dShape {
  const [kernelH, kernelW] = o.kernel;
  const [strideH, strideW] = o.stride ?? o.kernel;
  const [padH, padW] = o.pad ?? [0, 0];
  return {
    batch: o.batch, channels: o.channels, inH: o.inH, inW: o.inW,
    outH: poolOutSize(o.inH, kernelH, strideH, padH, o.ceilMode),
    outW: poolOutSize(o.inW, kernelW, strideW, padW, o.ceilMode),
    kernelH, kernelW, strideH, strideW, padH, padW,
  };
}

/** The window arguments after the buffers, in kernels.h order (max and average forward). */
export function pool2dArgs(s: Pool2dShape): number[] {
  return [s.batch, s.channels, s.inH, s.inW, s.outH, s.outW, s.kernelH, s.kernelW, s.strideH, s.strideW, s.padH, s.padW];
}

export function maxpool2dForward(x: ArrayLike<number>, s: Pool2dShape): { y: Float64Array; indices: Int32Array } {
  const planes = s.batch * s.channels;
  const y = new Float64Array(planes * s.outH * s.outW);
  const indices = new Int32Array(planes * s.outH * s.outW);
  for (let p = 0; p < planes; p++)
    for (let oh = 0; oh < s.outH; oh++)
      for (let ow = 0; ow < s.outW; ow++) {
        let best = -Infinity;
        let bestAt = -1;
        for (let i = 0; i < s.kernelH; i++)
          for (let j = 0; j < s.kernelW; j++) {
            const ih = oh * s.strideH - s.padH + i;
            const iw = ow * s.strideW - s.padW + j;
            if (ih < 0 || ih >= s.inH || iw < 0 || iw >= s.inW) continue;
            const at = ih * s.inW + iw;
            const v = x[p * s.inH * s.inW + at];
            if (bestAt < 0 || v > best || Number.isNaN(v)) {
              bestAt = at;
              best = v;
            }
          }
        const o = (p * s.outH + oh) * s.outW + ow;
        y[o] = best;
        indices[o] = bestAt;
      }
  return { y, indices };
}

export function maxpool2dBackward(dy: ArrayLike<number>, indices: ArrayLike<number>, s: Pool2dShape): Float64Array {
  const planes = s.batch * s.channels;
  const dx = new Float64Array(planes * s.inH * s.inW);
  for (let p = 0; p < planes; p++)
    for (let o = 0; o < s.outH * s.outW; o++) dx[p * s.inH * s.inW + indices[p * s.outH * s.outW + o]] += dy[p * s.outH * s.outW + o];
  return dx;
}

// Calls visit(xIndex, yIndex, divisor) for each input element in each average-pooling window.
function forEachAvgTap(s: Pool2dShape, countIncludePad: boolean, visit: (xi: number, yi: number, divisor: number) => void): void {
  const planes = s.batch * s.channels;
  for (let p = 0; p < planes; p++)
    for (let oh = 0; oh < s.outH; oh++)
      for (let ow = 0; ow < s.outW; ow++) {
        const h0 = oh * s.strideH - s.padH;
        const w0 = ow * s.strideW - s.padW;
        const h1 = Math.min(h0 + s.kernelH, s.inH + s.padH);
        const w1 = Math.min(w0 + s.kernelW, s.inW + s.padW);
        const padded = (h1 - h0) * (w1 - w0);
        const hs = Math.max(h0, 0);
        const ws = Math.max(w0, 0);
        const he = Math.min(h1, s.inH);
        const we = Math.min(w1, s.inW);
        const divisor = countIncludePad ? padded : (he - hs) * (we - ws);
        const yi = (p * s.outH + oh) * s.outW + ow;
        for (let ih = hs; ih < he; ih++)
          for (let iw = ws; iw < we; iw++) visit((p * s.inH + ih) * s.inW + iw, yi, divisor);
      }
}

export function avgpool2dForward(x: ArrayLike<number>, s: Pool2dShape, countIncludePad: boolean): Float64Array {
  const y = new Float64Array(s.batch * s.channels * s.outH * s.outW);
  forEachAvgTap(s, countIncludePad, (xi, yi, divisor) => {
    y[yi] += x[xi] / divisor;
  });
  return y;
}

export function avgpool2dBackward(dy: ArrayLike<number>, s: Pool2dShape, countIncludePad: boolean): Float64Array {
  const dx = new Float64Array(s.batch * s.channels * s.inH * s.inW);
  forEachAvgTap(s, countIncludePad, (xi, yi, divisor) => {
    dx[xi] += dy[yi] / divisor;
  });
  return dx;
}

export function globalAvgpoolForward(x: ArrayLike<number>, batch: number, channels: number, hw: number): Float64Array {
  const y = new Float64Array(batch * channels);
  for (let p = 0; p < batch * channels; p++) {
    let sum = 0;
    for (let i = 0; i < hw; i++) sum += x[p * hw + i];
    y[p] = sum / hw;
  }
  return y;
}

export function globalAvgpoolBackward(dy: ArrayLike<number>, batch: number, channels: number, hw: number): Float64Array {
  const dx = new Float64Array(batch * channels * hw);
  for (let p = 0; p < batch * channels; p++) for (let i = 0; i < hw; i++) dx[p * hw + i] = dy[p] / hw;
  return dx;
}
