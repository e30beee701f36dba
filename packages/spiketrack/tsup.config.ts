import { defineConfig, type Options } from 'tsup';

/** The library entries (the browser-safe main entry and `spiketrack/node`). */
const library: Options = {
  entry: { index: 'src/index.ts', node: 'src/node/index.ts' },
  dts: true,
  sourcemap: true,
  target: 'es2022',
  splitting: true,
  treeshake: true,
};

export default defineConfig([
  // ESM: import.meta.url is native. No shims here: they import Node's `url` and `path` into the
  // shared chunks, which breaks the main entry in browser bundlers (Vite's dev server fails).
  { ...library, format: ['esm'], clean: true },
  // CommonJS: import.meta.url (the bundled weights' URL) through tsup's shim.
  { ...library, format: ['cjs'], clean: false, shims: true },
  {
    // The `spiketrack` command: ESM only, with a shebang.
    entry: {
      cli: 'src/cli/main.ts',
      'eval-worker': 'src/node/eval-runner/worker.ts',
      'train-worker': 'src/node/train-runner/worker.ts',
    },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'es2022',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
