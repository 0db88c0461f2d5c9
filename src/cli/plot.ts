// `layerwise plot`: redraws a run's SVG plots, or overlays several runs with --compare.
import { Command } from 'commander';
import { writeComparePlots, writeRunPlots } from '../train/plots';
import * as path from 'node:path';

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('write the SVG plots of a run folder, or overlay several runs')
    .argument('[run]', 'a run folder (runs/<name>)')
    .option('--compare <runs...>', 'run folders to overlay')
    .option('--out <dir>', 'where --compare writes compare-loss.svg and compare-accuracy.svg', '.')
    .addHelpText('after', `
Examples:
  layerwise plot runs/cnn-layerwise-sgd-seed0
  layerwise plot --compare runs/cnn-layerwise-sgd-seed0 runs/cnn-single-sgd-seed0 --out runs`)
    .action((run: string | undefined, opts: { compare?: string[]; out: string }) => {
      if (!run && !opts.compare) throw new Error("plot: give a run folder or --compare RUN RUN...");
      if (run) console.log(writeRunPlots(run).map((f) => path.join(run, f)).join('\n'));
      if (opts.compare) console.log(writeComparePlots(opts.compare, opts.out).join('\n'));
    });
}
