// One benchmark workload in a process of its own (`node lib/bench/child.js NAME MIN_SECONDS`),
// so that its peak resident set is its own: prints {ms_per_step, peak_rss_mb} as one JSON line.
import { CPU_WORKLOADS, timeSteps } from './workloads';

const [name, minSeconds] = process.argv.slice(2);
const w = CPU_WORKLOADS.find((x) => x.name === name);
if (!w) {
  console.error(`bench child: unknown workload '${name}'`);
  process.exit(2);
}
const { step, dispose } = w.setup();
const ms = timeSteps(step, w.warmup ?? 5, Number(minSeconds), w.minSteps ?? 5);
dispose();
console.log(JSON.stringify({ ms_per_step: ms, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
