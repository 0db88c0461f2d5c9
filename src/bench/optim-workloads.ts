// Fused optimizer-step benchmarks: one sgd_step / adamw_step over a parameter set shaped like
// ResNet-50's (161 tensors, 25.6M values), reported with the bandwidth achieved next to a plain
// device copy of the parameter bytes measured in the same run (the target: >= 50% of the copy's).
import { kernels } from '../native/addon';
import { Tensor } from '../tensor';
import { resnet50ParamShapes } from './shapes';
import type { Workload } from './workloads';

function tensors(shapes: number[][], value: number): Tensor[] {
  return shapes.map((s) => Tensor.full(s, value));
}

function disposeAll(...groups: Tensor[][]): void {
  for (const g of groups) for (const t of g) t.dispose();
}

const shapes = resnet50ParamShapes();
const numels = shapes.map((s) => s.reduce((a, b) => a * b, 1));
const total = numels.reduce((a, b) => a + b, 0);

export const OPTIM_WORKLOADS: Workload[] = [
  {
    name: 'copy_25M',
    bytesPerStep: 2 * 4 * total,
    setup() {
      const src = Tensor.full([total], 1);
      const dst = Tensor.empty([total]);
      return { step: () => kernels.copy_bytes(dst.buffer, src.buffer, 4 * total), dispose: () => disposeAll([src, dst]) };
    },
  },
  {
    name: 'sgd_step_25M',
    // reads param, grad, momentum buffer; writes param, momentum buffer
    bytesPerStep: 5 * 4 * total,
    setup() {
      const [p, g, b] = [tensors(shapes, 0.5), tensors(shapes, 1e-3), tensors(shapes, 0)];
      const scales = Tensor.fromArray(numels.map((_, i) => 0.5 + i / numels.length));
      const wds = numels.map(() => 1e-4);
      const args = [p.map((t) => t.buffer), g.map((t) => t.buffer), b.map((t) => t.buffer), scales.buffer, null, numels, wds, numels.length, 0.1] as const;
      return { step: () => kernels.sgd_step(...args, 0.9, 0, false, false, 1), dispose: () => disposeAll(p, g, b, [scales]) };
    },
  },
  {
    name: 'adamw_step_25M',
    // reads param, grad, exp_avg, exp_avg_sq; writes param, exp_avg, exp_avg_sq
    bytesPerStep: 7 * 4 * total,
    setup() {
      const [p, g, m, v] = [tensors(shapes, 0.5), tensors(shapes, 1e-3), tensors(shapes, 0), tensors(shapes, 0)];
      const scales = Tensor.fromArray(numels.map((_, i) => 0.5 + i / numels.length));
      const wds = numels.map(() => 0.05);
      let step = 0;
      return {
        step: () => {
          step++;
          kernels.adamw_step(p.map((t) => t.buffer), g.map((t) => t.buffer), m.map((t) => t.buffer), v.map((t) => t.buffer),
            scales.buffer, null, numels, wds, numels.length, 1e-3, 0.9, 0.999, 1e-8, 1 - 0.9 ** step, 1 - 0.999 ** step, 1);
        },
        dispose: () => disposeAll(p, g, m, v, [scales]),
      };
    },
  },
];
