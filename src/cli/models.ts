// `layerwise models`: every registered model with its parameter count and number of parameter
// tensors, built at its default input shape and class count (a table, or JSON lines).
import { Command } from 'commander';
import { MODELS, type ModelEntry } from '../models';

export interface ModelInfo {
  name: string;
  params: number;
  tensors: number;
  input: readonly [number, number, number];
  classes: number;
  description: string;
}

export function modelInfo(name: string, entry: ModelEntry): ModelInfo {
  const model = entry.build({ inputShape: entry.inputShape, numClasses: entry.numClasses });
  try {
    const params = model.parameters();
    return {
      name, params: params.reduce((n, p) => n + p.numel, 0), tensors: params.length,
      input: entry.inputShape, classes: entry.numClasses, description: entry.description,
    };
  } finally {
    model.dispose();
  }
}

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the models of --model with their parameter counts (at their default input and class count)')
    .option('--json', 'one JSON object per line: name, params, tensors, input, classes, description')
    .addHelpText('after', `
Examples:
  layerwise models
  layerwise models --json`)
    .action((opts) => {
      const rows = Object.entries(MODELS).map(([name, entry]) => modelInfo(name, entry));
      if (opts.json) {
        for (const r of rows) console.log(JSON.stringify({ kind: 'model', ...r }));
        return;
      }
      const head = ['model', 'parameters', 'tensors', 'input', 'classes', 'description'];
      const cells = rows.map((r) => [r.name, r.params.toLocaleString('en-US'), String(r.tensors), r.input.join('x'), String(r.classes), r.description]);
      const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
      const line = (c: string[]) => c.map((v, i) => (i === 1 || i === 2 || i === 4 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
      console.log([line(head), ...cells.map(line)].join('\n'));
    });
}
