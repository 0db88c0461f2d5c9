// The GPU suite (`npm run test:gpu`): test/**/*.gpu.test.ts, CUDA against the CPU backend. On a
// machine without a usable GPU every file skips and prints why (test/gpu/cuda.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.gpu.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
