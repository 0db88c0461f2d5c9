#!/usr/bin/env node
// The `layerwise` command line (commander). Subcommands live in their own files; `bench` runs
// the benchmark suites and prints JSON lines.
import { Command } from 'commander';
import { registerBench } from './bench';
import { registerEval } from './eval';
import { registerExport } from './export';
import { registerInfo } from './info';
import { registerModels } from './models';
import { registerPlot } from './plot';
import { registerProbe } from './probe';
import { registerTrain } from './train';

const program = new Command();
program
  .name('layerwise')
  .description('Train image classifiers with the layer-wise learning rates of "Initializing the Layer-wise Learning Rate"')
  .version(require('../../package.json').version);
registerTrain(program);
registerProbe(program);
registerEval(program);
registerModels(program);
registerExport(program);
registerPlot(program);
registerBench(program);
registerInfo(program);
program.parseAsync(process.argv).catch((e: Error & { code?: string }) => {
  console.error(`layerwise: ${e.message}`);
  process.exit(1);
});
