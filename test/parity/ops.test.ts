// PyTorch parity for every op: forward outputs and all gradients against the fixtures of
// test/fixtures/ops (exact float64 answers rounded to float32; see its README). Tolerances:
// atol 2e-5 + rtol 2e-4 for outputs and gradients (float32 accumulation vs the exact result).
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'vitest';
import * as F from '../../src/functional';
import { Tensor, scope } from '../../src/index';
import { expectClose } from '../helpers/compare';
import { FIXTURES, loadFixture } from '../helpers/fixtures';

const TOL = { atol: 2e-5, rtol: 2e-4 };
const dir = path.join(FIXTURES, 'ops');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.safetensors') && !f.startsWith('model_'))
  .map((f) => f.replace('.safetensors', ''));

type Args = Record<string, unknown>;
type Inputs = Record<string, Tensor>;

function run(op: string, args: Args, x: Inputs, order: string[]): Tensor {
  const a = order.map((n) => x[n]);
  switch (op) {
    case 'linear': return F.linear(x.x, x.weight, x.bias ?? null);
    case 'matmul': return F.matmul(x.a, x.b);
    case 'conv2d': return F.conv2d(x.x, x.weight, x.bias ?? null, args as F.Conv2dOptions);
    case 'batch_norm': return F.batchNorm2d(x.x, x.running_mean, x.running_var, x.weight, x.bias, {
      training: args.training as boolean, momentum: args.momentum as number, eps: args.eps as number });
    case 'layer_norm': return F.layerNorm(x.x, args.normalized_shape as number[], x.weight, x.bias, args.eps as number);
    case 'relu': return F.relu(a[0]);
    case 'gelu': return F.gelu(a[0]);
    case 'softmax': return F.softmax(a[0], args.dim as number);
    case 'max_pool2d': return F.maxPool2d(a[0], args.kernel_size as F.IntPair, args.stride as F.IntPair, args.padding as F.IntPair);
    case 'avg_pool2d': return F.avgPool2d(a[0], args.kernel_size as F.IntPair, args.stride as F.IntPair, args.padding as F.IntPair, args.count_include_pad as boolean);
    case 'adaptive_avg_pool2d': return F.adaptiveAvgPool2d(a[0], args.output_size as F.IntPair);
    case 'flatten': return F.flatten(a[0], args.start_dim as number, (args.end_dim as number) ?? -1);
    case 'permute': return F.permute(a[0], args.dims as number[]);
    case 'cross_entropy': return F.crossEntropy(a[0], a[1], args.reduction as F.Reduction);
    case 'add': return F.add(a[0], a[1]);
    case 'mul': return F.mul(a[0], a[1]);
    case 'scale': return F.scale(a[0], args.alpha as number);
    case 'sum': return F.sum(a[0]);
    case 'mean': return F.mean(a[0]);
    default: throw new Error(`no dispatch for fixture op '${op}'`);
  }
}

describe('PyTorch parity: ops (forward and every gradient)', () => {
  test.each(cases)('%s', (name) =>
    scope(() => {
      const fx = loadFixture(path.join(dir, `${name}.safetensors`));
      const order: string[] = JSON.parse(fx.metadata.inputs);
      const grads: string[] = JSON.parse(fx.metadata.grads);
      const inputs: Inputs = {};
      for (const n of order) inputs[n] = fx.tensor(`in.${n}`, grads.includes(n));
      const out = run(fx.metadata.op, JSON.parse(fx.metadata.args), inputs, order);
      expectClose(out.toArray(), fx.floats('out'), TOL, `${name} out`);
      out.backward(fx.tensor('grad_out'));
      for (const n of grads) expectClose(inputs[n].grad!.toArray(), fx.floats(`grad.${n}`), TOL, `${name} grad.${n}`);
      for (const buf of ['running_mean', 'running_var']) {
        if (fx.has(`after.${buf}`)) expectClose(inputs[buf].toArray(), fx.floats(`after.${buf}`), TOL, `${name} after.${buf}`);
      }
      for (const t of Object.values(inputs)) t.grad?.dispose();
    }),
  );
});
