#!/usr/bin/env node
// The `layerwise` command line (commander). Subcommands live in their own files; `bench` runs
// the benchmark suites and prints JSON lines.
import { Command } from 'commander';
import { registerBench } from './bench';

const program = new Command();
program
  .name('layerwise')
  .description('Train image classifiers with the layer-wise learning rates of "Initializing the Layer-wise Learning Rate"')
  .version(require('../../package.json').version);
registerBench(program);
program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`layerwise: ${e.message}`);
  process.exit(1);
});
