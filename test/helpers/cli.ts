// Running the built command line (lib/cli/main.js) in a child process, as a user would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const CLI = path.join(__dirname, '..', '..', 'lib', 'cli', 'main.js');

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build before the CLI tests`);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; by default in a fresh temporary folder, so a default runs/ never lands in the repo. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = mkdtempSync(path.join(os.tmpdir(), 'lw-cwd-'))): CliResult {
  requireBuiltCli();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  requireBuiltCli();
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'lw-cwd-'));
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}
