/**
 * Where a worker thread's script is (`spiketrack eval`'s and data-parallel training's). In the built
 * package it is `dist/<name>.js`, beside the module that starts it. When running from the
 * TypeScript sources (the tests, under vitest), Node cannot start a `.ts` worker, so the worker is
 * bundled once per process with esbuild (a dev
 * dependency of the repository), with the workspace packages from their sources, into
 * `node_modules/.cache/spiketrack/` of this package (so that its external imports, tfjs and the
 * image codecs, resolve from there), as a file named by the hash of its contents.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from './write-file-atomic';

/** The worker scripts: the built file's name in `dist/`, and the entry in `src/node/`. */
const WORKERS = {
  'eval-worker': './eval-runner/worker.ts',
  'train-worker': './train-runner/worker.ts',
} as const;

/** A worker script's name. */
export type WorkerScriptName = keyof typeof WORKERS;

const bundled = new Map<WorkerScriptName, Promise<URL>>();

/** This module's URL (ESM), or its file's (CommonJS build). */
function selfUrl(): string {
  if (typeof __filename === 'string') return pathToFileURL(__filename).href;
  return import.meta.url;
}

/** The URL of a worker script, to start with `new Worker(url)`. */
export function workerScriptUrl(name: WorkerScriptName): Promise<URL> {
  const self = selfUrl();
  if (!self.endsWith('.ts')) return Promise.resolve(new URL(`./${name}.js`, self));
  let url = bundled.get(name);
  if (!url) {
    url = bundleFromSources(self, name);
    bundled.set(name, url);
  }
  return url;
}

async function bundleFromSources(self: string, name: WorkerScriptName): Promise<URL> {
  const pkg = new URL('../../', self);
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
    entryPoints: [fileURLToPath(new URL(WORKERS[name], self))],
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
  // named by its contents: processes that bundle the same sources share one file (each write is
  // atomic), and the cache holds one file per version of the worker, not one per test process
  const contents = (result.outputFiles[0] as { contents: Uint8Array }).contents;
  const hash = createHash('sha256').update(contents).digest('hex').slice(0, 16);
  const file = new URL(`${name}-${hash}.mjs`, dir);
  await writeFileAtomic(fileURLToPath(file), contents);
  return file;
}
