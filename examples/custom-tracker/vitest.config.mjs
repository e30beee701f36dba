import { defineConfig } from 'vitest/config';

// The example end to end (train a few steps, spiketrack eval, energy) as child processes, against
// the built packages (`npm test` builds them first). One backend: SPIKETRACK_BACKEND when it is
// cpu or wasm, else wasm (the training backend of the README's run).
export default defineConfig({
  test: {
    include: ['test/**/*.test.mjs'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
