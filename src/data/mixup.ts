// Mixup (Zhang et al. 2018) in timm's 'batch' mode: one lambda per batch, each image mixed with
// the batch reversed, x' = lam * x + (1 - lam) * x.flip(0), and soft targets
// lam * onehot(y) + (1 - lam) * onehot(y.flip(0)) (timm.data.Mixup with mixup_alpha, no label
// smoothing, no CutMix). The images are mixed on the device (one copy_block per sample for the
// reversal, one add_forward for the blend); the targets (B x K floats) are built on the host and
// uploaded. The loss is cross-entropy with soft targets (autograd/ops/loss.ts).
//
// lambda ~ Beta(alpha, alpha) from a Generator seeded by (seed, epoch, batch), so a batch's mix is
// recomputable on its own (resume mid-epoch). Beta is drawn as X / (X + Y) with X, Y ~ Gamma(alpha)
// (Marsaglia-Tsang, with the U^(1/a) boost for a < 1); timm calls numpy's beta, which draws
// the same distribution (not the same numbers).
import { kernels } from '../native/addon';
import { Generator } from '../random';
import { Tensor } from '../tensor';
import { ArgumentError } from '../errors';
import { mixSeed } from './seeds';

/** A Gamma(shape, 1) variate (Marsaglia and Tsang 2000). */
export function gammaSample(gen: Generator, shape: number): number {
  if (!(shape > 0)) throw new ArgumentError(`gamma: shape must be positive, got ${shape}`);
  if (shape < 1) {
    const u = 1 - gen.next();  // (0, 1]
    return gammaSample(gen, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = gen.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - gen.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(a, b) variate. */
export function betaSample(gen: Generator, a: number, b: number): number {
  const x = gammaSample(gen, a);
  const y = gammaSample(gen, b);
  return x + y > 0 ? x / (x + y) : 0.5;
}

/** The lambda of batch k of `epoch`: Beta(alpha, alpha) from (seed, epoch, k). */
export function mixupLambda(alpha: number, seed: number, epoch: number, k: number): number {
  return betaSample(new Generator(mixSeed(seed, epoch, 4, k)), alpha, alpha);
}

/** lam * onehot(y) + (1 - lam) * onehot(y reversed): (B, K) row-major. */
export function mixupTargets(labels: Int32Array, numClasses: number, lam: number): Float32Array {
  const b = labels.length;
  const out = new Float32Array(b * numClasses);
  for (let i = 0; i < b; i++) {
    out[i * numClasses + labels[i]] += lam;
    out[i * numClasses + labels[b - 1 - i]] += 1 - lam;
  }
  return out;
}

/**
 * x' = lam * x + (1 - lam) * x.flip(0) of a (B, ...) float tensor on its device (any memory
 * format: each sample is one contiguous block). Returns a new tensor; x is left as it is.
 */
export function mixImages(x: Tensor, lam: number): Tensor {
  const b = x.shape[0];
  const per = x.numel / b;
  const flipped = Tensor.empty(x.shape, { device: x.device, dtype: x.dtype, memoryFormat: x.memoryFormat });
  const out = Tensor.empty(x.shape, { device: x.device, dtype: x.dtype, memoryFormat: x.memoryFormat });
  try {
    for (let i = 0; i < b; i++) kernels.copy_block(flipped.buffer, x.buffer, x.dtype, 1, per, 0, (b - 1 - i) * per, 0, i * per);
    kernels.add_forward(out.buffer, x.buffer, flipped.buffer, x.dtype, lam, 1 - lam, x.numel);
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    flipped.dispose();
  }
  return out;
}
