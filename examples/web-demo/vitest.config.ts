import { defineConfig } from 'vitest/config';

// The browser tests: one Chromium at a time, slow steps (WebGPU on SwiftShader compiles its
// shaders on the first frame), run in Node against the built page (`npm test` builds it first).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 400_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
    onConsoleLog: (log: string) => !log.includes('looks like you are running TensorFlow.js in Node.js'),
  },
});
