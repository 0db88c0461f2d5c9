// `layerwise eval`: evaluates a run's checkpoint (or a weights file) on the test split:
// loss, top-1, top-5; on image folders also ReaL top-1 (--real-labels) and another folder
// (--eval-data, ImageNet-V2 layout).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArgumentError } from '../errors';
import { Command } from 'commander';
import { loadingFrom, loadStateDictFile } from '../io/state-dict';
import { loadCheckpoint } from '../train/checkpoint';
import { DEFAULT_CONFIG, isImageFolderSpec, resolveConfig, type TrainConfig } from '../train/config';
import { nonFiniteNote } from '../train/evaluate';
import { evaluateAll, type ExtraEval } from '../train/image-data';
import { addExtraEvalOptions } from './train';
import { applyMupReadout } from '../optim/mup';
import { buildData, buildModel, closeData, withMupBase } from '../train/setup';
import { addDeviceOptions, applyDeviceOptions, choice, positiveInt } from './options';
import { modelEntry, modelNames } from '../models';
import { loadExternalState } from '../models/weights';
import type { Tensor } from '../tensor';

export function registerEval(program: Command): void {
  const cmd = program.command('eval');
  addExtraEvalOptions(cmd)
    .description("evaluate a run's checkpoint, or a weights file, on the test split")
    .argument('[run]', 'a run folder (uses its config and checkpoint.safetensors)')
    .option('--weights <file>', 'a safetensors file with PyTorch names (needs --model and --data)')
    .option('--model <name>', `model: ${modelNames().join(', ')}`, choice(modelNames()))
    .option('--data <spec>', 'dataset spec')
    .option('--hidden <n>', 'hidden width of mlp / cnn', positiveInt)
    .option('--num-classes <n>', "classes of the model's head (default: the data's)", positiveInt)
    .option('--batch-size <n>', 'evaluation batch size', positiveInt)
    .option('--workers <n>', 'image folders: decode worker threads (default: the run\'s, else the core count)', positiveInt)
    .option('--json', 'print the result as JSON');
  addDeviceOptions(cmd, "the run's, else cpu")
    .addHelpText('after', `
Examples:
  layerwise eval runs/cnn-layerwise-sgd-seed0
  layerwise eval --weights model.safetensors --model mlp --hidden 1024 --data fashion-mnist`)
    .action((run: string | undefined, opts) => {
      let config: TrainConfig;
      let weightsFile: string;
      let weights: Map<string, Tensor>;
      if (run) {
        const checkpoint = loadCheckpoint(run);
        config = { ...DEFAULT_CONFIG, ...(checkpoint.state.config as Partial<TrainConfig>) } as TrainConfig;
        weightsFile = path.join(run, 'checkpoint.safetensors');
        weights = checkpoint.weights;
      } else {
        if (!opts.weights) throw new Error('eval: give a run folder or --weights FILE');
        config = resolveConfig({}, { model: opts.model, data: opts.data, hidden: opts.hidden ?? null, numClasses: opts.numClasses ?? null });
        weightsFile = opts.weights;
        weights = loadStateDictFile(weightsFile).tensors;
      }
      if (opts.batchSize) config = { ...config, evalBatchSize: opts.batchSize };
      config = { ...config, device: applyDeviceOptions(opts.device, opts.tf32 === false ? false : config.tf32, config.device) };
      for (const k of ['workers', 'evalData', 'realLabels'] as const) if (opts[k] !== undefined) config = { ...config, [k]: opts[k] };
      for (const [option, file] of [['--eval-data', opts.evalData], ['--real-labels', opts.realLabels]] as const) {
        if (file !== undefined && !existsSync(file)) throw new ArgumentError(`${option}: ${file} does not exist`);
      }
      if ((opts.evalData !== undefined || opts.realLabels !== undefined) && !isImageFolderSpec(config.data)) {
        throw new ArgumentError(`--eval-data and --real-labels need an image folder (--data imagenet:DIR or folder:DIR); this run's data is ${config.data}`);
      }
      const data = buildData(config);
      const model = buildModel(config, data);
      if (config.lrMode === 'mup') withMupBase(config, data, (base) => applyMupReadout(model, base));
      try {
        loadingFrom(weightsFile, () => loadExternalState(model, weights, modelEntry(config.model).mapping));
      } finally {
        for (const t of weights.values()) t.dispose();
      }
      if (config.channelsLast) model.to({ memoryFormat: 'channelsLast' });
      let evaluated: ExtraEval;
      try {
        evaluated = evaluateAll(model, data, config.precision);
      } finally {
        closeData(data);
      }
      const { val: result, fields } = evaluated;
      if (opts.json) console.log(JSON.stringify({ kind: 'eval', weights: weightsFile, ...result, ...fields }));
      else {
        const more = [fields.real_top1 !== undefined ? `, ReaL top-1 ${fields.real_top1.toFixed(2)}%` : '', fields.v2_top1 !== undefined ? `, --eval-data top-1 ${fields.v2_top1.toFixed(2)}%` : ''].join('');
        console.log(`${weightsFile}: ${result.samples} test images, loss ${result.loss.toFixed(4)}, top-1 ${result.top1.toFixed(2)}%, top-5 ${result.top5.toFixed(2)}%${nonFiniteNote(result)}${more}`);
      }
      model.dispose();
    });
}
