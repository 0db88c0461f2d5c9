// `layerwise probe`: the paper's Algorithm 1 on its own: T training batches at initialization
// (or at --init-weights), the eta table printed, the profile written as JSON (params in the
// model's parameter order: name, numel, G, eta).
import { Command } from 'commander';
import { formatProfileTable, saveProfile } from '../layerwise/profile';
import { resolveConfig, type TrainConfig } from '../train/config';
import { buildData, buildModel, closeData, initializeModel, resolveEta } from '../train/setup';
import { addModelOptions } from './train';
import { ArgumentError } from '../errors';
import { applyDeviceOptions, probeSteps } from './options';

export function registerProbe(program: Command): void {
  const cmd = program.command('probe').description("run the probe (the paper's Algorithm 1) and write the eta profile");
  addModelOptions(cmd)
    .option('--steps <n>', "probe batches T, 'epoch' or 'auto' (until eta converges: --probe-tol, --probe-window, --probe-min-steps; at most one epoch) (default: epoch)", probeSteps)
    .option('--probe-steps <n>', 'the same as --steps (the train option\'s name)', probeSteps)
    .option('--out <file>', 'where to write the profile', 'eta.json')
    .option('--json', 'print the profile as JSON instead of the table')
    .addHelpText('after', `
Examples:
  layerwise probe --model mlp --data fashion-mnist --batch-size 128 --steps 100 --out eta.json
  layerwise probe --model cnn --steps auto --probe-tol 0.005 --probe-window 20 --probe-min-steps 50
  layerwise probe --model mlp --data tensors:batch.safetensors --batch-size 8 --steps 3 --init-weights w.safetensors`)
    .action((opts) => {
      const { steps: stepsOpt, probeSteps: alias, out, json, device, tf32, ...rest } = opts;
      if (stepsOpt !== undefined && alias !== undefined && stepsOpt !== alias) {
        throw new ArgumentError(`--steps ${stepsOpt} and --probe-steps ${alias} disagree; give one of them`);
      }
      const steps = stepsOpt ?? alias ?? 'epoch';
      const picked = applyDeviceOptions(device, tf32, 'cpu');
      const config: TrainConfig = resolveConfig({}, { ...rest, device: picked, lrMode: 'layerwise', probeSteps: steps });
      const data = buildData(config);
      const model = buildModel(config, data);
      initializeModel(model, config);
      let eta: ReturnType<typeof resolveEta>;
      try {
        eta = resolveEta(config, model, data);
      } finally {
        closeData(data);
      }
      const { profile, probe } = eta;
      saveProfile(out, profile!);
      if (json) console.log(JSON.stringify(profile));
      else {
        console.log(formatProfileTable(profile!));
        const share = probe!.steps / data.train.length;
        console.log(`\nprobe: ${probe!.steps} batches in ${probe!.seconds.toFixed(2)} s (${(100 * share).toFixed(1)}% of an epoch's batches; stopped: ${probe!.stop}); wrote ${out}`);
      }
      model.dispose();
    });
}
