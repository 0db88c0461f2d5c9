// vitest configuration: tests import the TypeScript sources directly (src/), the addon from build/.
// Two projects:
//   cpu           test/**/*.test.ts without the GPU suite
//   gpu-emulated  the GPU suite (test/**/*.gpu.test.ts) against the CUDA emulator
//                 build/Release/layerwise_cuda_emulator.so (native/cuda-emulator: the CUDA backend's
//                 C ABI over the CPU backend), which checks the suite itself and every device path
//                 of the TypeScript on machines without a GPU; its training runs are 8 steps, and
//                 its emulated device (4 GiB) and CPU cache (512 MiB) are kept small for CI.
// On a GPU, `npm run test:gpu` (vitest.gpu.config.mts) runs the GPU suite against the real backend.
import * as path from 'node:path';
import { defineConfig } from 'vitest/config';

const emulator = path.join(__dirname, 'build', 'Release', 'layerwise_cuda_emulator.so');

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'cpu', include: ['test/**/*.test.ts'], exclude: ['**/node_modules/**', 'test/**/*.gpu.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'gpu-emulated',
          include: ['test/**/*.gpu.test.ts'],
          env: { LAYERWISE_CUDA_LIBRARY: emulator, LAYERWISE_GPU_TRAIN_STEPS: '8', LAYERWISE_CUDA_EMULATOR_MEMORY_MB: '4096', LAYERWISE_CPU_CACHE_MB: '512' },
          testTimeout: 300_000,
        },
      },
    ],
  },
});
