/**
 * Where the eval worker's script is. In the built package it is `dist/eval-worker.js`, beside the
 * module that starts it. When running from the TypeScript sources (the tests, under vitest), Node
 * cannot start a `.ts` worker, so the worker is bundled once per process with esbuild (a dev
 * dependency of the repository), with the workspace packages from their sources, into
 * `node_modules/.cache/spiketrack/` of this package (so that its external imports, tfjs and the
 * image codecs, resolve from there).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

let bundled: Promise<URL> | null = null;

/** This module's URL (ESM), or its file's (CommonJS build). */
function selfUrl(): string {
  if (typeof __filename === 'string') return pathToFileURL(__filename).href;
  return import.meta.url;
}

/** The URL of the worker script to start with `new Worker(url)`. */
export function evalWorkerUrl(): Promise<URL> {
  const self = selfUrl();
  if (!self.endsWith('.ts')) return Promise.resolve(new URL('./eval-worker.js', self));
  bundled ??= bundleFromSources(self);
  return bundled;
}

async function bundleFromSources(self: string): Promise<URL> {
  const pkg = new URL('../../../', self);
  const packages = new URL('../', pkg);
  const src = (p: string) => fileURLToPath(new URL(p, packages));
  const aliases: Record<string, string> = {
    '@spiketrack/neurons': src('neurons/src/index.ts'),
    '@spiketrack/neurons/node': src('neurons/src/node/index.ts'),
    '@spiketrack/neurons/layers': src('neurons/src/layers/index.ts'),
    '@spiketrack/spike-transformer': src('spike-transformer/src/index.ts'),
    '@spiketrack/memory-retrieval': src('memory-retrieval/src/index.ts'),
    '@spiketrack/energy': src('energy/src/index.ts'),
  };
  // A variable specifier: esbuild is not a dependency of the package, only of the repository.
  const esbuildName = 'esbuild';
  const esbuild = (await import(/* @vite-ignore */ esbuildName)) as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./worker.ts', self))],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    logLevel: 'silent',
    plugins: [
      {
        name: 'workspace-sources',
        setup(build) {
          build.onResolve({ filter: /^@spiketrack\// }, (a) =>
            aliases[a.path] ? { path: aliases[a.path] } : { path: a.path, external: true },
          );
          build.onResolve({ filter: /^[^./]/ }, (a) => ({ path: a.path, external: true }));
        },
      },
    ],
  });
  const dir = new URL('node_modules/.cache/spiketrack/', pkg);
  await mkdir(dir, { recursive: true });
  const file = new URL(`eval-worker-${process.pid}.mjs`, dir);
  const tmp = new URL(`eval-worker-${process.pid}.mjs.tmp`, dir);
  await writeFile(tmp, (result.outputFiles[0] as { contents: Uint8Array }).contents);
  await rename(tmp, file);
  return file;
}
