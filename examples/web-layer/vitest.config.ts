import { defineConfig } from 'vitest/config';

// One browser test against the built page (`npm test` builds it first).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    onConsoleLog: (log: string) => !log.includes('looks like you are running TensorFlow.js in Node.js'),
  },
});
