// `layerwise export`: a run's checkpoint (or a weights file) as a safetensors state dict that
// timm.create_model(name).load_state_dict(..., strict=True) / torchvision accepts (--format timm:
// the model's exportState mapping, BN counters as I64), or in our own names (--format layerwise).
import { existsSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { ArgumentError } from '../errors';
import { loadStateDictFile, saveStateDict } from '../io/state-dict';
import { modelEntry, modelNames } from '../models';
import { EXPORT_FORMATS, exportStateDict, type ExportFormat } from '../models/weights';
import { loadCheckpoint } from '../train/checkpoint';
import type { Tensor } from '../tensor';
import { choice } from './options';

export interface ExportResult {
  model: string;
  format: ExportFormat;
  out: string;
  tensors: number;
}

/** Writes `source` (a run folder or a weights file; `model` needed for a file) to `out` in `format`. */
export function exportWeights(source: string, format: ExportFormat, out: string, model?: string): ExportResult {
  if (!existsSync(source)) throw new ArgumentError(`export: ${source} does not exist (give a run folder or a .safetensors weights file)`);
  let weights: Map<string, Tensor>;
  let name: string;
  if (statSync(source).isDirectory()) {
    const checkpoint = loadCheckpoint(source);
    weights = checkpoint.weights;
    name = model ?? String((checkpoint.state.config as { model?: string }).model);
  } else {
    weights = loadStateDictFile(source).tensors;
    if (!model) {
      for (const t of weights.values()) t.dispose();
      throw new ArgumentError(`export: --model is needed with a weights file (${source}); one of ${modelNames().join(', ')}`);
    }
    name = model;
  }
  try {
    const mapped = exportStateDict(weights, format, modelEntry(name).mapping);
    try {
      const metadata: Record<string, string> = format === 'timm' ? { format: 'pt' } : { format: 'layerwise', model: name };
      saveStateDict(out, mapped, metadata);
      return { model: name, format, out, tensors: mapped.size };
    } finally {
      for (const [k, t] of mapped) if (weights.get(k) !== t) t.dispose();
    }
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write a run's weights (or a weights file) as a timm/torchvision or layerwise safetensors state dict")
    .argument('<run-or-weights>', 'a run folder (its checkpoint.safetensors) or a weights file')
    .requiredOption('--out <file>', 'the .safetensors file to write')
    .option('--format <f>', `${EXPORT_FORMATS.join(', ')} (default: timm)`, choice(EXPORT_FORMATS), 'timm')
    .option('--model <name>', `the model of a weights file: ${modelNames().join(', ')}`, choice(modelNames()))
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Examples:
  layerwise export runs/resnet50-layerwise-sgd-seed0 --format timm --out resnet50.safetensors
  layerwise export weights.safetensors --model davidnet --format layerwise --out davidnet.safetensors
Then in Python: model = timm.create_model('resnet50'); model.load_state_dict(safetensors.torch.load_file('resnet50.safetensors'), strict=True)`)
    .action((source: string, opts) => {
      const r = exportWeights(source, opts.format, opts.out, opts.model);
      if (opts.json) console.log(JSON.stringify({ kind: 'export', ...r }));
      else console.log(`wrote ${r.out}: ${r.tensors} tensors of ${r.model} in ${r.format} names`);
    });
}
