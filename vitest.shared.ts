import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Backends the test suite runs on. `SPIKETRACK_BACKEND=cpu|wasm|webgpu` picks one. */
export const TEST_BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;

const root = fileURLToPath(new URL('.', import.meta.url));

/** Tests import sibling packages from source, so they never run against a stale build. */
const alias = [
  { find: /^@spiketrack\/neurons\/node$/, replacement: `${root}packages/neurons/src/node/index.ts` },
  { find: /^@spiketrack\/neurons\/layers$/, replacement: `${root}packages/neurons/src/layers/index.ts` },
  { find: /^@spiketrack\/neurons$/, replacement: `${root}packages/neurons/src/index.ts` },
  { find: /^@spiketrack\/spike-transformer$/, replacement: `${root}packages/spike-transformer/src/index.ts` },
  { find: /^@spiketrack\/memory-retrieval$/, replacement: `${root}packages/memory-retrieval/src/index.ts` },
  { find: /^@spiketrack\/energy$/, replacement: `${root}packages/energy/src/index.ts` },
];

/**
 * One vitest project per backend. Every test file runs on each backend; `test-support/backend.ts`
 * (a setup file) selects it. With `SPIKETRACK_BACKEND` set, only that project is defined.
 */
export function backendProjects(dir: string) {
  const chosen = process.env.SPIKETRACK_BACKEND;
  const backends = chosen ? chosen.split(',') : [...TEST_BACKENDS];
  return defineConfig({
    resolve: { alias },
    test: {
      passWithNoTests: true,
      // tfjs's "install tfjs-node" banner is noise in every test file
      onConsoleLog: (log: string) => !log.includes('looks like you are running TensorFlow.js in Node.js'),
      projects: backends.map((backend) => ({
        resolve: { alias },
        test: {
          name: backend,
          root: dir,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          setupFiles: [`${root}test-support/setup-backend.ts`],
          env: { SPIKETRACK_BACKEND: backend },
          testTimeout: backend === 'webgpu' ? 120_000 : 30_000,
          hookTimeout: 120_000,
          pool: 'forks',
          fileParallelism: backend !== 'webgpu',
        },
      })),
    },
  });
}
