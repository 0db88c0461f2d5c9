// References for native/cpu/optim.cc (docs/method.md section 4; torch.optim.SGD and torch.optim.AdamW,
// https://pytorch.org/docs/stable/optim.html), on lists of tensors with per-tensor lr and weight
// decay. Two kinds:
//   * sgdStep / adamwStep: the update rules in float64 (the mathematical definition);
//   * sgdStepF32 / adamwStepF32: the exact float32 operation sequence of PyTorch's single-tensor
//     (foreach=False) CPU code, with Math.fround after every operation and an exactly rounded
//     float32 fma where PyTorch's vectorized kernels fuse. The native step must match these bit
//     for bit (the CUDA backend too).

export interface SgdOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  firstStep: boolean;
}

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  biasCorrection1: number; // 1 - beta1^t
  biasCorrection2: number; // 1 - beta2^t
}

/** State after one step: new parameters and (for SGD with momentum) buffers, or AdamW moments. */
export interface StepResult {
  params: Float64Array[];
  buffers: Float64Array[];
  expAvgSqs: Float64Array[];
}

/** float64 SGD: g += wd*w; b = g (first step) or momentum*b + (1-dampening)*g; Nesterov g += momentum*b, else g = b; w -= lr*g. */
export function sgdStep(params: ArrayLike<number>[], grads: ArrayLike<number>[], buffers: ArrayLike<number>[],
  lrs: number[], wds: number[], o: SgdOptions): StepResult {
  const outP: Float64Array[] = [];
  const outB: Float64Array[] = [];
  params.forEach((p, t) => {
    const np = new Float64Array(p.length);
    const nb = new Float64Array(o.momentum !== 0 ? p.length : 0);
    for (let i = 0; i < p.length; i++) {
      let d = grads[t][i] + wds[t] * p[i];
      if (o.momentum !== 0) {
        const b = o.firstStep ? d : o.momentum * buffers[t][i] + (1 - o.dampening) * d;
        nb[i] = b;
        d = o.nesterov ? d + o.momentum * b : b;
      }
      np[i] = p[i] - lrs[t] * d;
    }
    outP.push(np);
    outB.push(nb);
  });
  return { params: outP, buffers: outB, expAvgSqs: [] };
}

/** float64 AdamW: w *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). */
export function adamwStep(params: ArrayLike<number>[], grads: ArrayLike<number>[], expAvgs: ArrayLike<number>[],
  expAvgSqs: ArrayLike<number>[], lrs: number[], wds: number[], o: AdamWOptions): StepResult {
  const result: StepResult = { params: [], buffers: [], expAvgSqs: [] };
  params.forEach((p, t) => {
    const np = new Float64Array(p.length);
    const nm = new Float64Array(p.length);
    const nv = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const g = grads[t][i];
      nm[i] = o.beta1 * expAvgs[t][i] + (1 - o.beta1) * g;
      nv[i] = o.beta2 * expAvgSqs[t][i] + (1 - o.beta2) * g * g;
      const denom = Math.sqrt(nv[i]) / Math.sqrt(o.biasCorrection2) + o.eps;
      np[i] = p[i] * (1 - lrs[t] * wds[t]) - (lrs[t] / o.biasCorrection1) * (nm[i] / denom);
    }
    result.params.push(np);
    result.buffers.push(nm);
    result.expAvgSqs.push(nv);
  });
  return result;
}

const f = Math.fround;

/** The float32 next to r in the direction of `toward` (r finite, nonzero direction). */
function nextFloat32(r: number, toward: number): number {
  if (r === 0) return toward > 0 ? 2 ** -149 : -(2 ** -149);
  const buf = new Float32Array([r]);
  const bits = new Int32Array(buf.buffer);
  bits[0] += (r > 0) === (toward > r) ? 1 : -1;
  return buf[0];
}

/** Exactly rounded float32 fma(a, b, c) for float32 inputs (a*b is exact in double; a TwoSum
 * recovers what rounding a*b + c to double lost, which only matters at a float32 tie). */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bp = s - c;
  const err = p - bp + (c - (s - bp));
  const r = f(s);
  if (err === 0 || r === s || !Number.isFinite(s)) return r;
  const other = nextFloat32(r, s);
  if (s !== (r + other) / 2) return r;
  return err > 0 === other > r ? other : r;
}

/** PyTorch's float32 SGD step: grad.add(param, alpha=wd); buf.mul_(momentum).add_(grad, alpha=1-dampening);
 * grad.add(buf, alpha=momentum) | buf; param.add_(grad, alpha=-lr) (each add with alpha a fused multiply-add). */
export function sgdStepF32(params: ArrayLike<number>[], grads: ArrayLike<number>[], buffers: ArrayLike<number>[],
  lrs: number[], wds: number[], o: SgdOptions): StepResult {
  const outP: Float64Array[] = [];
  const outB: Float64Array[] = [];
  const mom = f(o.momentum);
  const damp1 = f(1 - o.dampening);
  params.forEach((p, t) => {
    const np = new Float64Array(p.length);
    const nb = new Float64Array(o.momentum !== 0 ? p.length : 0);
    for (let i = 0; i < p.length; i++) {
      let d = wds[t] !== 0 ? fmaF32(p[i], f(wds[t]), grads[t][i]) : grads[t][i];
      if (o.momentum !== 0) {
        const b = o.firstStep ? d : fmaF32(d, damp1, f(buffers[t][i] * mom));
        nb[i] = b;
        d = o.nesterov ? fmaF32(b, mom, d) : b;
      }
      np[i] = fmaF32(d, f(-lrs[t]), p[i]);
    }
    outP.push(np);
    outB.push(nb);
  });
  return { params: outP, buffers: outB, expAvgSqs: [] };
}

/** PyTorch's float32 AdamW step: param.mul_(1 - lr*wd); exp_avg.lerp_(grad, 1 - beta1);
 * exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
 * denom = (exp_avg_sq.sqrt() / sqrt(bc2)).add_(eps); param.addcdiv_(exp_avg, denom, value=-lr/bc1). */
export function adamwStepF32(params: ArrayLike<number>[], grads: ArrayLike<number>[], expAvgs: ArrayLike<number>[],
  expAvgSqs: ArrayLike<number>[], lrs: number[], wds: number[], o: AdamWOptions): StepResult {
  const result: StepResult = { params: [], buffers: [], expAvgSqs: [] };
  const w = f(1 - o.beta1);
  const b2 = f(o.beta2);
  const c2 = f(1 - o.beta2);
  const bc2Sqrt = f(Math.sqrt(o.biasCorrection2));
  const eps = f(o.eps);
  params.forEach((p, t) => {
    const decay = f(1 - lrs[t] * wds[t]);
    const negStep = f(-(lrs[t] / o.biasCorrection1));
    const np = new Float64Array(p.length);
    const nm = new Float64Array(p.length);
    const nv = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const g = grads[t][i];
      const m = expAvgs[t][i];
      const pi = f(p[i] * decay);
      // lerp (ATen/native/Lerp.h): |w| < 0.5 ? m + w*(g - m) : g - (g - m)*(1 - w), fused.
      nm[i] = Math.abs(w) < 0.5 ? fmaF32(w, f(g - m), m) : fmaF32(f(w - 1), f(g - m), g);
      nv[i] = fmaF32(f(c2 * g), g, f(expAvgSqs[t][i] * b2));
      const denom = f(f(f(Math.sqrt(nv[i])) / bc2Sqrt) + eps);
      np[i] = f(pi + f(f(negStep * nm[i]) / denom));
    }
    result.params.push(np);
    result.buffers.push(nm);
    result.expAvgSqs.push(nv);
  });
  return result;
}
