// `layerwise info [--json]`: what this installation can run on. The package and Node.js versions,
// the core addon that was loaded, the CPU backend (threads, OpenBLAS, oneDNN), and for CUDA whether
// it is available and why not, the libraries found (and every folder looked in), and each device
// (compute capability, memory, SMs) with the driver / runtime / cuDNN / cuBLASLt versions. Opening
// the CUDA library and listing devices creates no CUDA context.
import { Command } from 'commander';
import { addon, addonPath } from '../native/addon';
import { probeCuda } from '../native/cuda-backend';

export interface InfoReport {
  version: string;
  node: string;
  platform: string;
  addon: string;
  backends: string[];
  cpu: ReturnType<typeof addon.cpuInfo>;
  cuda: {
    available: boolean;
    reason: string | null;
    library: { path: string; source: string; exists: boolean };
    libraries: { found: Record<string, string>; missing: string[]; searched: { dir: string; source: string }[]; notes: string[] } | null;
    devices: ReturnType<typeof addon.cudaDevices>;
  };
}

export function collectInfo(): InfoReport {
  const cuda = probeCuda();
  const libs = cuda.libraries;
  return {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    version: require('../../package.json').version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    addon: addonPath,
    backends: cuda.available ? ['cpu', 'cuda'] : ['cpu'],
    cpu: addon.cpuInfo(),
    cuda: {
      available: cuda.available,
      reason: cuda.reason,
      library: cuda.library,
      libraries: libs ? { found: libs.found, missing: libs.missing, searched: libs.searched, notes: libs.notes } : null,
      devices: cuda.devices,
    },
  };
}

/** 13000 -> '13.0', 92400 -> '9.24.0' (cuDNN 9 encodes major*10000 + minor*100 + patch). */
function cudaVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}
function cudnnVersion(v: number): string {
  return `${Math.floor(v / 10000)}.${Math.floor((v % 10000) / 100)}.${v % 100}`;
}
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

export function formatInfo(r: InfoReport): string {
  const lines = [
    `layerwise ${r.version} (node ${r.node}, ${r.platform})`,
    `core addon: ${r.addon}`,
    `backends:   ${r.backends.join(', ')}`,
    `cpu:        ${r.cpu.threads} threads; ${r.cpu.blas} (${r.cpu.blasThreads} threads); oneDNN ${r.cpu.onednn ?? 'not built in'}`,
    `cuda:       ${r.cuda.available ? 'available' : 'unavailable'}`,
    `  library:  ${r.cuda.library.path} (${r.cuda.library.source}${r.cuda.library.exists ? '' : ', missing'})`,
  ];
  if (r.cuda.reason) lines.push(`  why not:  ${r.cuda.reason}`);
  if (r.cuda.libraries) {
    for (const [name, p] of Object.entries(r.cuda.libraries.found)) lines.push(`  found:    ${name} -> ${p}`);
    if (r.cuda.libraries.missing.length > 0) lines.push(`  missing:  ${r.cuda.libraries.missing.join(', ')}`);
    lines.push(`  looked in: ${r.cuda.libraries.searched.map((s) => `${s.dir} [${s.source}]`).join(', ')}`);
  }
  for (const d of r.cuda.devices) {
    lines.push(`  device ${d.index}: ${d.name}, compute ${d.computeCapability}, ${d.multiprocessors} SMs, ` +
      `${gib(d.freeMemory)} free of ${gib(d.totalMemory)}; driver ${cudaVersion(d.driverVersion)}, runtime ${cudaVersion(d.runtimeVersion)}, ` +
      `cuDNN ${cudnnVersion(d.cudnnVersion)}, cuBLASLt ${d.cublasLtVersion}`);
  }
  return lines.join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('versions, backends, and for CUDA: whether it is available (and why not), the libraries found, the devices')
    .option('--json', 'print one JSON object')
    .action((opts) => {
      const report = collectInfo();
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatInfo(report));
    });
}
