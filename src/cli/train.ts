// `layerwise train`: every TrainConfig setting as an option (defaults in src/train/config.ts),
// --config FILE.json for a config file (options given on the command line win), --resume DIR to
// continue a run, --json for machine-readable lines only.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { modelNames } from '../models';
import { ArgumentError } from '../errors';
import { checkRecipeData, recipe, recipeNames } from '../train/recipes';
import { DEFAULT_CONFIG, LR_MODES, optionName, readConfigFile, resolveConfig, runName, type TrainConfig } from '../train/config';
import { loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint';
import { runTraining } from '../train/run';
import { nonFiniteNote } from '../train/evaluate';
import { addDeviceOptions, applyDeviceOptions, betas, choice, cropFraction, fraction, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, probeSteps } from './options';

const d = DEFAULT_CONFIG;

/** Adds the options that `train` and `probe` share (data, model, init, probe). */
export function addModelOptions(cmd: Command): Command {
  addDeviceOptions(cmd, d.device)
    .option('--data <spec>', `dataset: fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, cifar100:DIR, tensors:FILE, synthetic[:N], imagenet:DIR, folder:DIR (default: ${d.data})`)
    .option('--model <name>', `model: ${modelNames().join(', ')} (default: ${d.model})`, choice(modelNames()))
    .option('--hidden <n>', 'hidden width of mlp / cnn (default: the model\'s)', positiveInt)
    .option('--num-classes <n>', 'classes of the model\'s head (default: the data\'s)', positiveInt)
    .option('--batch-size <n>', `batch size (default: ${d.batchSize})`, positiveInt)
    .option('--seed <n>', `seed of init, data order and dropout (default: ${d.seed})`, nonNegativeInt)
    .option('--init <kind>', `initialization: paper, pytorch (default: ${d.init})`, choice(['paper', 'pytorch']))
    .option('--fan-out <mode>', `paper init fan-out: pytorch (size(0)*kh*kw), grouped ((out/groups)*kh*kw) (default: ${d.fanOut})`, choice(['pytorch', 'grouped']))
    .option('--init-weights <file>', 'initial weights (safetensors, PyTorch names) instead of the init')
    .option('--transform <spec>', `training augmentation: none, flip, crop32-pad4,flip, ... (default: ${d.transform})`)
    .option('--shuffle', 'shuffle the training data (default: yes, except for tensors:FILE)')
    .option('--no-shuffle', 'keep the training data in file order')
    .option('--probe-tol <x>', `--probe-steps auto: stop when no tensor's eta moved by more than x (relative) over the window (default: ${d.probeTol} = 0.5%)`, fraction)
    .option('--probe-window <n>', `--probe-steps auto: batches over which the eta change is measured (default: ${d.probeWindow})`, positiveInt)
    .option('--probe-min-steps <n>', `--probe-steps auto: first batch at which convergence is checked (default: ${d.probeMinSteps})`, positiveInt)
    .option('--probe-reduce <r>', `probe statistic of |g|: mean, sum (default: ${d.probeReduce})`, choice(['mean', 'sum']))
    .option('--zero-gradient <policy>', `a tensor with no gradient in the probe: error, fallback (eta 1) (default: ${d.zeroGradient})`, choice(['error', 'fallback']))
    .option('--degenerate <policy>', `tensors with G far below the rest: eta1, freeze (default: ${d.degenerate})`, choice(['eta1', 'freeze']))
    .option('--precision <p>', `matmul/conv arithmetic: fp32, bf16, fp16 (autocast; fp16 adds loss scaling) (default: ${d.precision})`, choice(['fp32', 'bf16', 'fp16']))
    .option('--channels-last', 'image tensors in channels-last (NHWC) memory format');
  return addImageOptions(cmd);
}

/** The image-folder options of train and probe (defaults in src/train/config.ts). */
export function addImageOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'decode worker threads (default: the core count); batches are the same for any count', positiveInt)
    .option('--aug <kind>', `training augmentation of image folders: basic (RandomResizedCrop + flip), strong (+ RandAugment m10 n2 and Mixup 0.5) (default: ${d.aug})`, choice(['basic', 'strong']))
    .option('--mixup <alpha>', 'Mixup alpha: lambda ~ Beta(alpha, alpha) per batch, 0 = off (default: 0.5 with --aug strong, else off)', nonNegativeNumber)
    .option('--skip-bad-images', 'replace undecodable or oversized images by another of their class, listed in runs/<name>/bad-images.jsonl (default: stop with the file named)')
    .option('--max-image-pixels <n>', `refuse images with more pixels than this (default: ${d.maxImagePixels})`, positiveInt)
    .option('--crop-fraction <f>', `evaluation: resize the shorter side to image size / f, centre crop (default: ${d.cropFraction})`, cropFraction)
    .option('--image-size <s>', `side of the square samples (default: ${d.imageSize}); host memory of the decode ring: (2 + ceil(workers/2)) x batch x s x s x 3 bytes`, positiveInt);
}

/** --eval-data and --real-labels (train and eval). */
export function addExtraEvalOptions(cmd: Command): Command {
  return cmd
    .option('--eval-data <dir>', 'also evaluate on this folder (ImageNet-V2 layout: DIR/<class>/*, numeric folders are class numbers): v2_top1 in the metrics')
    .option('--real-labels <file>', 'ImageNet-ReaL real.json (label lists per validation image, ILSVRC2012_val_* order): real_top1 in the metrics');
}

export function registerTrain(program: Command): void {
  const cmd = program.command('train').description('train a model with layer-wise (or baseline) learning rates; writes runs/<name>/');
  addExtraEvalOptions(addModelOptions(cmd))
    .option('--recipe <name>', `one of the paper's recipes (layerwise recipes lists what each sets; every other option overrides it): ${recipeNames().join(', ')}`, choice(recipeNames()))
    .option('--config <file>', 'JSON config file (camelCase or option names as keys)')
    .option('--name <name>', 'run name: the folder runs/<name> (default: <model>-<lr-mode>-<optimizer>-seed<seed>)')
    .option('--out-dir <dir>', `folder of run folders (default: ${d.outDir})`)
    .option('--resume <dir>', 'continue the run in this folder from its checkpoint (exactly, on CPU)')
    .option('--drop <p>', `dropout rate (timm drop_rate): mlp before its readout; models that take it (default: ${d.drop}: none)`, nonNegativeNumber)
    .option('--drop-path <p>', `stochastic depth rate (timm drop_path_rate) of the models that take it (default: ${d.dropPath}: none)`, nonNegativeNumber)
    .option('--epochs <n>', `epochs (default: ${d.epochs})`, positiveInt)
    .option('--max-steps <n>', 'stop after this many optimizer steps', positiveInt)
    .option('--accumulate <n>', `micro-batches per optimizer step (effective batch = batch size x n) (default: ${d.accumulate})`, positiveInt)
    .option('--eval-batch-size <n>', `evaluation batch size (default: ${d.evalBatchSize})`, positiveInt)
    .option('--lr-mode <mode>', `${LR_MODES.join(', ')} (default: ${d.lrMode})`, choice(LR_MODES))
    .option('--optimizer <name>', `sgd, adamw (default: ${d.optimizer})`, choice(['sgd', 'adamw']))
    .option('--lr <x>', `base learning rate (default: ${d.lr})`, positiveNumber)
    .option('--momentum <x>', `SGD momentum (default: ${d.momentum})`, nonNegativeNumber)
    .option('--nesterov', 'Nesterov momentum')
    .option('--weight-decay <x>', `weight decay (default: ${d.weightDecay})`, nonNegativeNumber)
    .option('--wd-exclude-norm-bias', 'no weight decay on norm scales/shifts and biases')
    .option('--betas <b1,b2>', 'AdamW betas (default: 0.9,0.999)', betas)
    .option('--eps <x>', `AdamW epsilon (default: ${d.eps})`, nonNegativeNumber)
    .option('--schedule <kind>', `cosine, step, constant (default: ${d.schedule})`, choice(['cosine', 'step', 'constant']))
    .option('--warmup-steps <n>', 'linear warmup steps (wins over --warmup-epochs)', nonNegativeInt)
    .option('--warmup-epochs <x>', `linear warmup epochs, fractions allowed (default: ${d.warmupEpochs})`, nonNegativeNumber)
    .option('--schedule-every <unit>', `evaluate the schedule every step or epoch (default: ${d.scheduleEvery})`, choice(['step', 'epoch']))
    .option('--step-size <n>', `step decay period (in --schedule-every units) (default: ${d.stepSize})`, positiveInt)
    .option('--gamma <x>', `step decay factor (default: ${d.gamma})`, positiveNumber)
    .option('--min-lr <x>', `cosine floor (default: ${d.minLr})`, nonNegativeNumber)
    .option('--probe-steps <n>', `probe batches T, 'epoch' (the paper) or 'auto' (until eta converges, at most one epoch) (default: ${d.probeSteps})`, probeSteps)
    .option('--eta-from <file>', 'reuse an eta profile (eta.json) instead of probing')
    .option('--larc-trust <x>', `LARC trust coefficient (default: ${d.larcTrust})`, nonNegativeNumber)
    .option('--no-larc-clip', 'LARC scale mode instead of clip mode')
    .option('--mup-base-width <n>', `muP base width (default: ${d.mupBaseWidth})`, positiveInt)
    .option('--log-interval <n>', `steps between log lines (default: ${d.logInterval})`, positiveInt)
    .option('--checkpoint-every <n>', 'checkpoint every n optimizer steps (default: each epoch end, and always at the end)', positiveInt)
    .option('--json', 'machine-readable JSON lines only')
    .addHelpText('after', `
Examples:
  layerwise train                                   # Fashion-MNIST, small CNN, probe + layer-wise SGD
  layerwise train --lr-mode single --name baseline   # the same with one learning rate
  layerwise train --model mlp --hidden 1024 --optimizer adamw --lr 1e-3 --epochs 20
  layerwise train --data cifar10:/data/cifar --model cnn3 --transform crop32-pad4,flip
  layerwise train --data imagenet:/data/imagenet --model resnet50 --aug strong --workers 16 --real-labels real.json
  layerwise train --probe-steps auto                # probe until eta changes < 0.5% over 20 batches (from batch 50)
  layerwise train --recipe resnet50-sgd-basic --data imagenet:/data/imagenet --precision bf16 --channels-last
  layerwise train --resume runs/cnn-layerwise-sgd-seed0`)
    .action((opts) => {
      const { config: configFile, resume, json, wdExcludeNormBias, tf32, device, recipe: recipeName, ...rest } = opts;
      let config: TrainConfig;
      let dir: string;
      let checkpoint: LoadedCheckpoint | null = null;
      if (resume) {
        const ignored = Object.entries({ configFile, wdExcludeNormBias, device, recipe: recipeName, ...rest })
          .filter(([k, v]) => v !== undefined && !(k === 'larcClip' && v === true))
          .map(([k]) => k);
        if (ignored.length > 0) {
          throw new ArgumentError(`--resume continues a run with its saved configuration; drop ${ignored.map(optionName).join(', ')} (or start a new run with --name)`);
        }
        checkpoint = loadCheckpoint(resume);
        // Runs saved before a setting existed get its default.
        config = { ...DEFAULT_CONFIG, ...(checkpoint.state.config as Partial<TrainConfig>) } as TrainConfig;
        // --no-tf32 may be added on resume; otherwise the run's own setting holds.
        if (tf32 === false) config.tf32 = false;
        config.device = applyDeviceOptions(undefined, config.tf32, config.device);
        dir = resume;
      } else {
        const fromFile: Partial<TrainConfig> = configFile ? readConfigFile(configFile) : {};
        const chosen = recipeName ?? fromFile.recipe ?? null;
        const fromRecipe: Partial<TrainConfig> = chosen === null ? {} : { ...(recipe(chosen).settings as Partial<TrainConfig>), recipe: chosen };
        if (chosen !== null) checkRecipeData(recipe(chosen), rest.data ?? fromFile.data);
        const picked = applyDeviceOptions(device, tf32 === false ? false : fromFile.tf32, fromFile.device ?? d.device);
        const fromCli: Partial<TrainConfig> = { ...rest, device: picked, ...(tf32 === false ? { tf32: false } : {}), ...(wdExcludeNormBias ? { noDecayNormBias: true } : {}) };
        if (opts.larcClip === true) delete (fromCli as Record<string, unknown>).larcClip;
        config = resolveConfig(fromFile, fromCli, fromRecipe);
        dir = path.join(config.outDir, runName(config));
        // Without --name, a second run of the same settings gets the next free folder (-2, -3, ...).
        for (let k = 2; config.name === null && existsSync(path.join(dir, 'checkpoint.safetensors')); k++) {
          dir = path.join(config.outDir, `${runName(config)}-${k}`);
        }
      }
      const summary = runTraining(config, dir, checkpoint, { json: !!json });
      if (summary.alreadyFinished) {
        const f = summary.final;
        const text = `${dir} is a finished run (step ${summary.steps} of ${summary.steps}; its summary is in metrics.jsonl): nothing to resume, nothing written`;
        if (json) console.log(JSON.stringify({ kind: 'finished', dir, steps: summary.steps, test_loss: f.loss, test_top1: f.top1, test_top5: f.top5 }));
        else console.log(`${text}\ntest top-1 ${f.top1.toFixed(2)}%, top-5 ${f.top5.toFixed(2)}%, loss ${f.loss.toFixed(4)}`);
        return;
      }
      if (!json) {
        console.log(`\ndone: ${summary.steps} steps in ${summary.seconds.toFixed(1)} s; test top-1 ${summary.final.top1.toFixed(2)}%, ` +
          `top-5 ${summary.final.top5.toFixed(2)}%, loss ${summary.final.loss.toFixed(4)}${nonFiniteNote(summary.final)}\nrun folder: ${summary.dir}`);
      }
    });
}
