import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', node: 'src/node/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    splitting: true,
    treeshake: true,
    // import.meta.url (the bundled weights' URL) in the CommonJS build too
    shims: true,
  },
  {
    // The `spiketrack` command: ESM only, with a shebang.
    entry: { cli: 'src/cli/main.ts', 'eval-worker': 'src/node/eval-runner/worker.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'es2022',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
