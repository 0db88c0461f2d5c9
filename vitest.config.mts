// vitest configuration: tests import the TypeScript sources directly (src/), the addon from build/.
// The GPU suite (test/**/*.gpu.test.ts) runs with `npm run test:gpu` (vitest.gpu.config.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/**/*.gpu.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
