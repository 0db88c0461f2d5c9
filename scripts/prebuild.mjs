#!/usr/bin/env node
// Prebuilt binaries (npm run prebuild): copies the built core addon to node-gyp-build's layout,
// prebuilds/<platform>-<arch>/layerwise.napi.node (any *.node there is accepted; the `napi` tag
// says it is ABI-stable across Node versions, N-API 8), and the CUDA backend library
// layerwise_cuda.so beside it when it was built. src/native/addon.ts loads build/Release first and
// prebuilds/ otherwise, and looks for layerwise_cuda.so beside whichever layerwise.node it loaded.
// prebuilds/ is a build product (CI makes it after the build), git-ignored like build/.
//
//   node scripts/prebuild.mjs                  prebuilds/ in this checkout, from build/Release
//   node scripts/prebuild.mjs --from FILE      another layerwise.node (its folder's layerwise_cuda.so too)
//   node scripts/prebuild.mjs --package DIR    DIR becomes an installable copy of the package with only
//                                              prebuilt binaries: package.json, lib/, prebuilds/ and the
//                                              production node_modules (no build/, no sources)
// Prints one JSON line saying what it copied.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
function option(name) {
  const i = args.indexOf(name);
  if (i < 0) return null;
  if (i + 1 >= args.length) fail(`${name} needs a value`);
  return args[i + 1];
}
function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}
for (const a of args) if (a.startsWith('--') && !['--from', '--package'].includes(a)) fail(`unknown option ${a} (known: --from FILE, --package DIR)`);

const from = path.resolve(option('--from') ?? path.join(root, 'build', 'Release', 'layerwise.node'));
const packageDir = option('--package');
const target = packageDir ? path.resolve(packageDir) : root;
if (!existsSync(from)) fail(`${from} does not exist: build the addon first (npm run build:native)`);

const tuple = `${process.platform}-${process.arch}`;
const outDir = path.join(target, 'prebuilds', tuple);
mkdirSync(outDir, { recursive: true });
const copied = [];
function copy(src, dst) {
  copyFileSync(src, dst);
  copied.push({ file: path.relative(target, dst), bytes: statSync(dst).size });
}
copy(from, path.join(outDir, 'layerwise.napi.node'));
const cuda = path.join(path.dirname(from), 'layerwise_cuda.so');
if (existsSync(cuda)) copy(cuda, path.join(outDir, 'layerwise_cuda.so'));
// The image addon (libjpeg-turbo fast path; absent when built without libjpeg): beside the core
// addon, else this checkout's build/Release. node-gyp-build still picks layerwise.napi.node (its
// napi tag makes it more specific than the untagged layerwise_image.node).
const image = [path.join(path.dirname(from), 'layerwise_image.node'), path.join(root, 'build', 'Release', 'layerwise_image.node')].find((f) => existsSync(f));
if (image) copy(image, path.join(outDir, 'layerwise_image.node'));

if (packageDir) {
  if (!existsSync(path.join(root, 'lib', 'cli', 'main.js'))) fail(`${root}/lib is not built: run npm run build:ts first`);
  copy(path.join(root, 'package.json'), path.join(target, 'package.json'));
  cpSync(path.join(root, 'lib'), path.join(target, 'lib'), { recursive: true });
  copied.push({ file: 'lib/' });
  // The production dependency closure: every package-lock entry not marked dev that is installed
  // here (optional platform packages of other systems are not).
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (!key.startsWith('node_modules/') || entry.dev) continue;
    const src = path.join(root, key);
    if (!existsSync(src)) {
      if (!entry.optional) fail(`production dependency ${key} is not installed (npm ci)`);
      continue;
    }
    cpSync(src, path.join(target, key), { recursive: true, dereference: true });
    copied.push({ file: `${key}/` });
  }
}
console.log(JSON.stringify({ kind: 'prebuild', target, tuple, addon: from, cuda: existsSync(cuda), image: image ?? null, copied }));
