// The package as CI ships it: scripts/prebuild.mjs --package copies package.json, lib/, the
// prebuilt binaries (prebuilds/<platform>-<arch>/, node-gyp-build's layout) and the production
// node_modules to a fresh folder, without build/ and without sources; there, with no compiler on
// PATH (only node), the CLI finds the prebuilt addon, looks for layerwise_cuda.so beside it, and
// trains. The prebuild is made here from the current build, so no CI artifact is needed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { addonPath } from '../../src/native/addon';
import { requireBuiltCli } from '../helpers/cli';

const root = path.join(__dirname, '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'layerwise-prebuilt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('prebuilt package', () => {
  test('a copy with only prebuilt binaries and production dependencies trains without build/ or a compiler', () => {
    requireBuiltCli();
    const pkg = path.join(work, 'pkg');
    const out = execFileSync(process.execPath, [path.join(root, 'scripts', 'prebuild.mjs'), '--from', addonPath, '--package', pkg], { encoding: 'utf8' });
    const report = JSON.parse(out.trim().split('\n').pop()!);
    expect(report.tuple).toBe(`${process.platform}-${process.arch}`);
    const tupleDir = path.join(pkg, 'prebuilds', report.tuple);
    expect(readdirSync(tupleDir)).toContain('layerwise.napi.node');
    expect(existsSync(path.join(pkg, 'build'))).toBe(false);
    expect(existsSync(path.join(pkg, 'src'))).toBe(false);
    for (const dep of Object.keys(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies)) {
      expect(existsSync(path.join(pkg, 'node_modules', dep, 'package.json')), dep).toBe(true);
    }
    // PATH holds node only: no cc, g++, cmake, python3.
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const env = { PATH: bin, HOME: work, LAYERWISE_CUDA_LIBS: '', LD_LIBRARY_PATH: '' };
    const run = (args: string[]) => spawnSync(process.execPath, [path.join('lib', 'cli', 'main.js'), ...args], { cwd: pkg, env, encoding: 'utf8', timeout: 120_000 });

    const info = run(['info', '--json']);
    expect(info.status, info.stderr).toBe(0);
    const r = JSON.parse(info.stdout);
    expect(r.addon).toBe(path.join(tupleDir, 'layerwise.napi.node'));
    expect(r.cuda.library).toMatchObject({ path: path.join(tupleDir, 'layerwise_cuda.so'), source: 'beside layerwise.node', exists: report.cuda });

    const train = run(['train', '--data', 'synthetic:256', '--epochs', '1', '--max-steps', '3', '--model', 'mlp', '--hidden', '8',
      '--batch-size', '32', '--json', '--out-dir', 'runs', '--name', 'prebuilt']);
    expect(train.status, train.stderr).toBe(0);
    const summary = train.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.kind === 'summary');
    expect(summary.steps).toBe(3);
    expect(Number.isFinite(summary.test_loss)).toBe(true);
    expect(existsSync(path.join(pkg, 'runs', 'prebuilt', 'checkpoint.safetensors'))).toBe(true);
  });
});
