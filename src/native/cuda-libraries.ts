// Finding the CUDA libraries the CUDA backend (layerwise_cuda.so) links by soname: cuBLASLt,
// cuBLAS and cuDNN, plus cuDNN's sub-libraries. The binding preloads what is found by full path
// (dlopen RTLD_NOW | RTLD_GLOBAL, native/binding/backend.cc) before opening layerwise_cuda.so, whose
// DT_NEEDED entries then resolve to the already loaded objects: no LD_LIBRARY_PATH needed.
//
// cuDNN 9 is a small dispatcher (libcudnn.so.9) that dlopens its sub-libraries (libcudnn_graph,
// _ops, _cnn, _engines_*, _heuristic, ...) by bare soname when first used (cuDNN's "Backend API
// Overview" and "Building and Running a cuDNN Dependent Program"). The wheels carry RPATH $ORIGIN,
// but a CUDA_HOME or hand-copied install may not, so every sub-library found beside libcudnn.so.9
// is preloaded too: dlopen by bare soname then returns the loaded copy (glibc matches loaded
// objects by soname), and all of them come from the one directory, so their versions match.
//
// Places, in order: LAYERWISE_CUDA_LIBS (colon list), CUDA_HOME / CUDA_PATH, LD_LIBRARY_PATH, the
// system paths and `ldconfig -p`, the project's third_party/cuda/nvidia/*/lib, and the nvidia-*
// Python wheels of `python3` on PATH (site-packages/nvidia/{cu13,cublas,cudnn,...}/lib).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** Libraries layerwise_cuda.so needs, in preload order (cuBLAS needs cuBLASLt). */
export const REQUIRED_LIBRARIES = ['libcublasLt.so.13', 'libcublas.so.13', 'libcudnn.so.9'] as const;
/** cuDNN sub-libraries that must sit beside libcudnn.so.9 (the legacy convolution API lives in _cnn). */
export const CUDNN_REQUIRED = ['libcudnn_graph.so.9', 'libcudnn_ops.so.9', 'libcudnn_cnn.so.9'] as const;
/** Further sub-libraries, preloaded when present (dependency order: each needs only graph / ops). */
export const CUDNN_OPTIONAL = [
  'libcudnn_engines_precompiled.so.9', 'libcudnn_engines_runtime_compiled.so.9', 'libcudnn_engines_tensor_ir.so.9',
  'libcudnn_heuristic.so.9', 'libcudnn_adv.so.9', 'libcudnn_ext.so.9',
] as const;
/** Preloaded when found: the runtime (if the library was linked against it dynamically) and NVRTC, which cuDNN's runtime-compiled engines dlopen. */
export const OPTIONAL_LIBRARIES = ['libcudart.so.13', 'libnvrtc.so.13', 'libnvrtc-builtins.so.13.0'] as const;

/** The Python wheels' library folders under site-packages/nvidia/. */
const WHEEL_DIRS = ['cu13', 'cublas', 'cudnn', 'cuda_runtime', 'cuda_nvrtc'];

export interface SearchedDir {
  dir: string;
  /** Where the folder came from: 'LAYERWISE_CUDA_LIBS', 'CUDA_HOME', 'ldconfig', 'python3 wheels', ... */
  source: string;
}

export interface CudaLibrarySearch {
  /** Every folder looked in, in order (also those that do not exist). */
  searched: SearchedDir[];
  /** soname -> full path of each library found. */
  found: Record<string, string>;
  /** Required sonames not found (empty when the backend can be loaded). */
  missing: string[];
  /** Full paths to dlopen before layerwise_cuda.so, in order. */
  preload: string[];
  /** Notes on steps that could not run (python3 missing, ldconfig failed, ...). */
  notes: string[];
}

export interface SearchOptions {
  env?: NodeJS.ProcessEnv;
  /** The project root whose third_party/cuda/nvidia/* is searched (default: the package root). */
  projectRoot?: string;
  /** Replaces the system folders and `ldconfig -p` (tests). */
  systemDirs?: SearchedDir[];
  /** Replaces running python3 (tests): the folders that hold the `nvidia` namespace package. */
  pythonNvidiaDirs?: () => string[];
}

const SYSTEM_DIRS = ['/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib'];

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(':').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The folders of our sonames in `ldconfig -p` (the loader's cache), if ldconfig runs. */
function ldconfigDirs(notes: string[]): string[] {
  const wanted = new Set<string>([...REQUIRED_LIBRARIES, ...OPTIONAL_LIBRARIES]);
  for (const exe of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    if (exe.startsWith('/') && !existsSync(exe)) continue;
    try {
      const out = execFileSync(exe, ['-p'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
      const dirs: string[] = [];
      for (const line of out.split('\n')) {
        const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
        if (m && wanted.has(m[1])) dirs.push(path.dirname(m[2]));
      }
      return dirs;
    } catch {
      // try the next spelling
    }
  }
  notes.push('ldconfig -p could not be run');
  return [];
}

/** The folders holding the `nvidia` namespace package of python3 on PATH (nvidia-* wheels). */
function pythonNvidiaDirs(notes: string[], env: NodeJS.ProcessEnv): string[] {
  const script = 'import nvidia\nfor p in list(nvidia.__path__): print(p)';
  try {
    const out = execFileSync('python3', ['-c', script], { encoding: 'utf8', timeout: 5000, env, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
  } catch {
    notes.push("python3 on PATH has no 'nvidia' package (pip install nvidia-cudnn-cu13 nvidia-cublas adds one)");
    return [];
  }
}

/** The first folder of `dirs` that holds `name`. */
function findIn(name: string, dirs: SearchedDir[]): string | null {
  for (const d of dirs) {
    const p = path.join(d.dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Looks for the CUDA libraries in every place (see the file comment) and says where it looked. */
export function findCudaLibraries(options: SearchOptions = {}): CudaLibrarySearch {
  const env = options.env ?? process.env;
  const notes: string[] = [];
  const searched: SearchedDir[] = [];
  const add = (dir: string, source: string) => {
    const resolved = path.resolve(dir);
    if (!searched.some((s) => s.dir === resolved)) searched.push({ dir: resolved, source });
  };
  for (const d of splitList(env.LAYERWISE_CUDA_LIBS)) add(d, 'LAYERWISE_CUDA_LIBS');
  for (const name of ['CUDA_HOME', 'CUDA_PATH'] as const) {
    const root = env[name];
    if (root) for (const sub of ['lib64', 'lib', 'targets/x86_64-linux/lib']) add(path.join(root, sub), name);
  }
  for (const d of splitList(env.LD_LIBRARY_PATH)) add(d, 'LD_LIBRARY_PATH');
  if (options.systemDirs) for (const s of options.systemDirs) add(s.dir, s.source);
  else {
    for (const d of SYSTEM_DIRS) add(d, 'system');
    for (const d of ldconfigDirs(notes)) add(d, 'ldconfig');
  }
  const thirdParty = path.join(options.projectRoot ?? path.join(__dirname, '..', '..'), 'third_party', 'cuda', 'nvidia');
  let entries: string[] = [];
  try {
    entries = readdirSync(thirdParty).sort();
  } catch {
    entries = [];
  }
  for (const e of entries) add(path.join(thirdParty, e, 'lib'), 'third_party');
  if (entries.length === 0) add(path.join(thirdParty, '*', 'lib'), 'third_party');

  const missingNow = () => REQUIRED_LIBRARIES.filter((n) => findIn(n, searched) === null);
  // The Python step spawns an interpreter: only when something is still missing.
  if (missingNow().length > 0) {
    const nvidiaDirs = options.pythonNvidiaDirs ? options.pythonNvidiaDirs() : pythonNvidiaDirs(notes, env);
    for (const n of nvidiaDirs) for (const w of WHEEL_DIRS) add(path.join(n, w, 'lib'), 'python3 wheels');
  }
  return resolveLibraries(searched, notes);
}

function resolveLibraries(searched: SearchedDir[], notes: string[]): CudaLibrarySearch {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of [...REQUIRED_LIBRARIES, ...OPTIONAL_LIBRARIES]) {
    const p = findIn(name, searched);
    if (p) found[name] = p;
    else if ((REQUIRED_LIBRARIES as readonly string[]).includes(name)) missing.push(name);
  }
  const cudnn = found['libcudnn.so.9'];
  if (cudnn) {
    const dir = path.dirname(cudnn);
    for (const name of [...CUDNN_REQUIRED, ...CUDNN_OPTIONAL]) {
      const p = path.join(dir, name);
      if (existsSync(p)) found[name] = p;
      else if ((CUDNN_REQUIRED as readonly string[]).includes(name)) missing.push(`${name} (beside ${cudnn})`);
    }
  }
  const order = [
    'libcublasLt.so.13', 'libcublas.so.13', 'libcudart.so.13', 'libnvrtc.so.13', 'libnvrtc-builtins.so.13.0',
    'libcudnn_graph.so.9', 'libcudnn_ops.so.9', 'libcudnn_cnn.so.9', ...CUDNN_OPTIONAL, 'libcudnn.so.9',
  ];
  const preload = missing.length > 0 ? [] : order.filter((n) => found[n] !== undefined).map((n) => found[n]);
  return { searched, found, missing, preload, notes };
}

/** "libcudnn.so.9 not found (looked in: ...); install ... or set LAYERWISE_CUDA_LIBS". */
export function missingLibrariesMessage(search: CudaLibrarySearch): string {
  const looked = search.searched.map((s) => `${s.dir} [${s.source}]`).join(', ');
  const hints: string[] = [];
  if (search.missing.some((m) => m.startsWith('libcudnn'))) hints.push('nvidia-cudnn-cu13');
  if (search.missing.some((m) => m.startsWith('libcublas'))) hints.push('nvidia-cublas');
  const notes = search.notes.length > 0 ? `; ${search.notes.join('; ')}` : '';
  return `${search.missing.join(', ')} not found (looked in: ${looked})${notes}; ` +
    `install ${hints.length > 0 ? hints.join(' and ') : 'the CUDA 13 libraries'} (pip) or set LAYERWISE_CUDA_LIBS to the folders that hold them`;
}
