// `layerwise bench`: benchmark suites (src/bench), one JSON object per workload with --json.
import { Command, InvalidArgumentError } from 'commander';
import { runBench } from '../bench/run';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time the workloads of a suite, next to PyTorch on the same machine when it is installed')
    .option('--suite <name>', 'benchmark suite: cpu (kernels, train steps), cuda (GPU train steps, fused optimizer, conv/GEMM throughput), data (image pipeline vs torchvision; LAYERWISE_BENCH_DATA_WORKERS, _IMAGES, _BATCH, _REPEATS)', 'cpu')
    .option('--json', 'print one JSON object per workload')
    .option('--workloads <list>', 'comma-separated subset of the suite')
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--min-seconds <s>', 'minimum timing window per workload', (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError(`--min-seconds must be a positive number, got '${v}'`);
      return n;
    }, 2)
    .addHelpText('after', '\nExamples:\n  layerwise bench --suite cpu --json\n  layerwise bench --suite data --json\n  layerwise bench --workloads cnn3_b128 --no-torch')
    .action((opts) => {
      runBench({
        suite: opts.suite,
        json: !!opts.json,
        workloads: opts.workloads ? String(opts.workloads).split(',') : null,
        torch: opts.torch !== false,
        minSeconds: opts.minSeconds,
      });
    });
}
