// Parameter initializers (torch.nn.init counterparts), seeded through random.ts. Values are drawn
// on the host and copied to the device once.
import { ArgumentError } from '../errors';
import { Generator, defaultGenerator } from '../random';
import type { Tensor } from '../tensor';
import type { Parameter } from './parameter';

function fill(t: Tensor, draw: () => number): Tensor {
  const values = new Float32Array(t.numel);
  for (let i = 0; i < values.length; i++) values[i] = draw();
  t.copyFromHost(values);
  return t;
}

export function uniform_(t: Tensor, low: number, high: number, gen: Generator = defaultGenerator): Tensor {
  return fill(t, () => low + (high - low) * gen.next());
}

export function normal_(t: Tensor, mean = 0, std = 1, gen: Generator = defaultGenerator): Tensor {
  return fill(t, () => mean + std * gen.normal());
}

/** timm's trunc_normal_: N(mean, std) redrawn outside [a, b] (absolute bounds, as timm/PyTorch). */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, gen: Generator = defaultGenerator): Tensor {
  if (!(a < b) || !(mean > a - 8 * std && mean < b + 8 * std)) throw new ArgumentError(`truncNormal_: [${a}, ${b}] leaves no mass around mean ${mean} (std ${std})`);
  return fill(t, () => {
    for (;;) {
      const v = mean + std * gen.normal();
      if (v >= a && v <= b) return v;
    }
  });
}

export function constant_(t: Tensor, value: number): Tensor {
  return fill(t, () => value);
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** fan_in and fan_out of a weight (out, in, ...kernel), as torch.nn.init._calculate_fan_in_and_fan_out. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new ArgumentError(`init: fan in and fan out need at least 2 dims, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** PyTorch's default for Linear and Conv weights: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function defaultWeightInit_(t: Tensor, gen: Generator = defaultGenerator): Tensor {
  const bound = 1 / Math.sqrt(Math.max(fans(t.shape).fanIn, 1));
  return uniform_(t, -bound, bound, gen);
}

/** PyTorch's default for Linear and Conv biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of the weight. */
export function defaultBiasInit_(bias: Tensor, weightShape: readonly number[], gen: Generator = defaultGenerator): Tensor {
  const bound = 1 / Math.sqrt(Math.max(fans(weightShape).fanIn, 1));
  return uniform_(bias, -bound, bound, gen);
}

/** Fan-out convention of the paper init (docs/method.md sections 2.1 and 3). */
export type FanOutMode = 'pytorch' | 'grouped';

export interface PaperInitOptions {
  seed: number;
  /** 'pytorch': size(0)*kh*kw (the paper, also for depthwise); 'grouped': (out/groups)*kh*kw. */
  fanOut?: FanOutMode;
}

/**
 * The paper's initialization, by each parameter's declared role: conv/linear weights
 * N(0, std = sqrt(1/fan_out)); norm scales and LayerScale 1; biases, class tokens, position
 * embeddings and relative-position tables 0. Parameters are visited in namedParameters order
 * with one seeded generator, so the result depends only on the model and the seed.
 */
export function paperInit_(params: readonly Parameter[], options: PaperInitOptions): void {
  const gen = new Generator(options.seed);
  const mode = options.fanOut ?? 'pytorch';
  for (const p of params) {
    switch (p.role) {
      case 'weight': {
        const receptive = p.shape.slice(2).reduce((a, b) => a * b, 1);
        const out = mode === 'grouped' ? p.shape[0] / p.groups : p.shape[0];
        normal_(p, 0, Math.sqrt(1 / (out * receptive)), gen);
        break;
      }
      case 'norm_scale':
      case 'layer_scale':
        ones_(p);
        break;
      case 'bias':
      case 'norm_shift':
      case 'cls_token':
      case 'pos_embed':
      case 'rel_pos_table':
        zeros_(p);
        break;
      case 'other':
        throw new ArgumentError(`paperInit: parameter of shape [${p.shape.join(', ')}] has role 'other'; its module must declare a role`);
    }
  }
}
