// Float64 reference for conv2d_forward / conv2d_backward_input / conv2d_backward_weight: plain
// loops over the definition of torch.nn.Conv2d (cross-correlation, zero padding, stride,
// dilation, groups), NCHW tensors and (out, in / groups, kh, kw) weights. Written for clarity,
// not speed; the kernel tests compare the native kernels against it.

export interface Conv2dShape {
  batch: number;
  inChannels: number;
  inH: number;
  inW: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  outH: number;
  outW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

/** PyTorch's output size for one spatial dimension. */
export function conv2dOutSize(inSize: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((inSize + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** A full shape from the usual Conv2d arguments; out_h / out_w follow PyTorch's formula. */
export function conv2dShape(o: {
  batch: number;
  inChannels: number;
  inH: number;
  inW: number;
  outChannels: number;
  kernel: [number, number];
  stride?: [number, number];
  pad?: [number, number];
  dilation?: [number, number];
  groups?: number;
}): Conv2dShape {
  const [strideH, strideW] = o.stride ?? [1, 1];
  const [padH, padW] = o.pad ?? [0, 0];
  const [dilationH, dilationW] = o.dilation ?? [1, 1];
  const [kernelH, kernelW] = o.kernel;
  return {
    batch: o.batch, inChannels: o.inChannels, inH: o.inH, inW: o.inW, outChannels: o.outChannels,
    kernelH, kernelW,
    outH: conv2dOutSize(o.inH, kernelH, strideH, padH, dilationH),
    outW: conv2dOutSize(o.inW, kernelW, strideW, padW, dilationW),
    strideH, strideW, padH, padW, dilationH, dilationW, groups: o.groups ?? 1,
  };
}

/** The kernels' integer arguments after the buffers, in kernels.h order. */
export function conv2dArgs(s: Conv2dShape): number[] {
  return [s.batch, s.inChannels, s.inH, s.inW, s.outChannels, s.kernelH, s.kernelW, s.outH, s.outW,
    s.strideH, s.strideW, s.padH, s.padW, s.dilationH, s.dilationW, s.groups];
}

export function conv2dSizes(s: Conv2dShape): { x: number; w: number; y: number } {
  return {
    x: s.batch * s.inChannels * s.inH * s.inW,
    w: s.outChannels * (s.inChannels / s.groups) * s.kernelH * s.kernelW,
    y: s.batch * s.outChannels * s.outH * s.outW,
  };
}

// Calls visit(xIndex, wIndex, yIndex) for every product x * w that contributes to an output:
// y[n, o, oh, ow] += x[n, g*cig + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] * w[o, c, i, j].
function forEachTap(s: Conv2dShape, visit: (xi: number, wi: number, yi: number) => void): void {
  const cig = s.inChannels / s.groups;
  const cog = s.outChannels / s.groups;
  for (let n = 0; n < s.batch; n++)
    for (let o = 0; o < s.outChannels; o++) {
      const g = Math.floor(o / cog);
      for (let oh = 0; oh < s.outH; oh++)
        for (let ow = 0; ow < s.outW; ow++) {
          const yi = ((n * s.outChannels + o) * s.outH + oh) * s.outW + ow;
          for (let c = 0; c < cig; c++)
            for (let i = 0; i < s.kernelH; i++) {
              const ih = oh * s.strideH - s.padH + i * s.dilationH;
              if (ih < 0 || ih >= s.inH) continue;
              for (let j = 0; j < s.kernelW; j++) {
                const iw = ow * s.strideW - s.padW + j * s.dilationW;
                if (iw < 0 || iw >= s.inW) continue;
                const xi = ((n * s.inChannels + g * cig + c) * s.inH + ih) * s.inW + iw;
                const wi = ((o * cig + c) * s.kernelH + i) * s.kernelW + j;
                visit(xi, wi, yi);
              }
            }
        }
    }
}

/** y = conv2d(x, w): (batch, out, out_h, out_w). */
export function conv2dForward(x: ArrayLike<number>, w: ArrayLike<number>, s: Conv2dShape): Float64Array {
  const y = new Float64Array(conv2dSizes(s).y);
  forEachTap(s, (xi, wi, yi) => {
    y[yi] += x[xi] * w[wi];
  });
  return y;
}

/** dx = d(sum(y * dy)) / dx: (batch, in, in_h, in_w). */
export function conv2dBackwardInput(dy: ArrayLike<number>, w: ArrayLike<number>, s: Conv2dShape): Float64Array {
  const dx = new Float64Array(conv2dSizes(s).x);
  forEachTap(s, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
  });
  return dx;
}

/** dw = d(sum(y * dy)) / dw: (out, in / groups, kh, kw). */
export function conv2dBackwardWeight(dy: ArrayLike<number>, x: ArrayLike<number>, s: Conv2dShape): Float64Array {
  const dw = new Float64Array(conv2dSizes(s).w);
  forEachTap(s, (xi, wi, yi) => {
    dw[wi] += dy[yi] * x[xi];
  });
  return dw;
}
