#!/usr/bin/env node
// Checks the file-size rule (docs/design.md section 10) on every tracked source file: over 500
// lines fails, over 300 is listed as a warning. Source: .ts .mts .mjs .js .cc .cu .h .cuh .py .sh
// (fixtures excluded).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SOFT = 300;
const HARD = 500;
const SOURCE = /\.(ts|mts|mjs|js|cc|cu|h|cuh|py|sh)$/;
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => SOURCE.test(f) && !f.startsWith('test/fixtures/'));
let failed = 0;
for (const f of files) {
  let lines;
  try {
    lines = readFileSync(f, 'utf8').split('\n').length;
  } catch {
    continue;
  }
  if (lines > HARD) {
    console.error(`check-sizes: ${f} has ${lines} lines (hard limit ${HARD})`);
    failed++;
  } else if (lines > SOFT) {
    console.log(`check-sizes: warning: ${f} has ${lines} lines (soft limit ${SOFT})`);
  }
}
console.log(`check-sizes: ${files.length} files checked, ${failed} over ${HARD} lines`);
process.exit(failed > 0 ? 1 : 0);
