/**
 * XNNPACK's own threads for the wasm backend in Node (`selectBackend('wasm', { wasmThreads })`).
 *
 * tfjs-backend-wasm ships a threaded build (XNNPACK on a pthreadpool of Emscripten workers), and
 * its worker script handles Node's `worker_threads`, but tfjs turns it off in Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false there, tensorflow/tfjs#3830): it hands the worker script
 * and the module's script to the workers as Blob URLs, which Node cannot load. The build also caps
 * its threads at half the logical cores (one per physical core on 2-way SMT), so a 2-core machine
 * gets one thread.
 *
 * {@link prepareWasmThreads} re-registers the backend's factory so that, while the backend starts
 * (and only then):
 * - the two scripts are written to files (a temporary folder, removed at exit), and those paths are
 *   handed out instead of Blob URLs;
 * - the module's script gets the names of the bundle's scope it refers to (`require$$N`,
 *   `commonjsGlobal`), read from the installed bundle;
 * - Emscripten's core count is twice the threads asked for, so its cap lets them through.
 * The globals are put back when the factory returns. The kernels are XNNPACK's own, split by
 * output tiles, so the outputs equal one thread's bit for bit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors';
import { selfRequire } from './self-require';

/** What this module uses of `@tensorflow/tfjs-backend-wasm`'s exports. */
export interface WasmPackage {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** The most threads the threaded build can run: it starts a pool of 8 workers. */
export const MAX_WASM_THREADS = 8;

/** The start of the module's script that the wasm package turns into a Blob. */
const MAIN_SCRIPT_START = 'var WasmBackendModuleThreadedSimd';
/** A phrase of the pthread worker's script (it sets up `worker_threads` in Node). */
const WORKER_SCRIPT_MARK = 'var ENVIRONMENT_IS_NODE';

type Factory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

/** The package's own factory and its priority, kept from the first call. */
let original: { factory: Factory; priority: number } | null = null;
/** The folder the scripts are written to (one per process). */
let scriptsDir: string | null = null;

/** `requested` threads within what the machine and the build allow (at least 1). */
export function wasmThreadsFor(requested: number): number {
  if (!Number.isInteger(requested) || requested < 1) {
    throw new BackendError(`wasmThreads must be a positive integer, got ${requested}`);
  }
  return Math.max(1, Math.min(requested, MAX_WASM_THREADS, availableParallelism()));
}

/** What this module reads of tfjs-core's engine: the started backends and the registered factories. */
const engine = () =>
  tf.engine() as unknown as {
    registry: Record<string, tf.KernelBackend & { numDataIds(): number }>;
    registryFactory: Record<string, { factory: Factory; priority: number }>;
  };

/** The package given to the last {@link prepareWasmThreads}. */
let loadedPackage: WasmPackage | null = null;

/** The threads of the running wasm backend (1 when it has not started or is single-threaded). */
export function wasmBackendThreads(pkg?: WasmPackage): number {
  if (!engine().registry.wasm) return 1;
  const p = pkg ?? loadedPackage;
  if (!p) return 1;
  try {
    return Math.max(1, p.getThreadsCount());
  } catch {
    return 1;
  }
}

/**
 * Makes the next start of the wasm backend use `requested` threads (capped by the cores and
 * {@link MAX_WASM_THREADS}; undefined: keep a running backend as it is, else 1). When a wasm
 * backend already runs with another count it is replaced if it holds no tensors; otherwise this
 * throws a {@link BackendError}. Call it after `@tensorflow/tfjs-backend-wasm` was imported and
 * before `tf.setBackend('wasm')`. Returns the threads the backend will run on.
 */
export function prepareWasmThreads(pkg: WasmPackage, requested: number | undefined): number {
  loadedPackage = pkg;
  const { registry, registryFactory } = engine();
  // no count asked for: keep the running backend as it is
  if (requested === undefined && registry.wasm) return wasmBackendThreads(pkg);
  const threads = wasmThreadsFor(requested ?? 1);
  if (!original) {
    const entry = registryFactory.wasm;
    if (!entry) throw new BackendError("the 'wasm' backend did not register with tfjs-core");
    original = { factory: entry.factory, priority: entry.priority };
  }
  const running = registry.wasm;
  if (running) {
    const current = wasmBackendThreads(pkg);
    if (current === threads) return threads;
    const held = running.numDataIds();
    if (held > 0) {
      throw new BackendError(
        `the wasm backend already runs on ${current} thread(s) and holds ${held} tensor(s); ask for wasmThreads: ${threads} in the first selectBackend('wasm', …) of the process`,
      );
    }
  }
  if (registryFactory.wasm || running) tf.removeBackend('wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  pkg.setThreadsCount(threads);
  const { factory, priority } = original;
  tf.registerBackend('wasm', threads > 1 ? () => startThreaded(factory, threads) : factory, priority);
  return threads;
}

/** Runs the package's factory with the Node shims described in this module's header. */
async function startThreaded(factory: Factory, threads: number): Promise<tf.KernelBackend> {
  const require = selfRequire();
  const os = require('node:os') as typeof import('node:os');
  const dir = scripts();
  const prelude = bundleScopePrelude(require);
  const OriginalBlob = globalThis.Blob;
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  const workerTexts = new WeakMap<object, string>();
  let mainPath: string | null = null;
  let workerPath: string | null = null;
  globalThis.Blob = class extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (!parts?.every((p) => typeof p === 'string')) return;
      const text = parts.join('');
      if (text.startsWith(MAIN_SCRIPT_START)) {
        mainPath = join(dir, 'wasm-module.cjs');
        writeFileSync(mainPath, `${prelude}\n${text}`);
      } else if (text.includes(WORKER_SCRIPT_MARK)) {
        workerTexts.set(this, text);
      }
    }
  };
  URL.createObjectURL = (obj: Blob) => {
    const text = workerTexts.get(obj);
    if (text === undefined || mainPath === null) return createObjectURL(obj);
    if (workerPath === null) {
      workerPath = join(dir, 'wasm-pthread-worker.cjs');
      // the worker turns the module's Blob into a URL and reads it as a file: give it the file
      const redirect = `URL.createObjectURL = () => ${JSON.stringify(mainPath)}; URL.revokeObjectURL = () => {};`;
      writeFileSync(workerPath, `${redirect}\n${text}`);
    }
    return workerPath;
  };
  os.cpus = () => {
    const c = cpus();
    return Array.from({ length: Math.max(c.length, 2 * threads) }, (_, i) => c[i % c.length]!);
  };
  try {
    const backend = await factory();
    if (mainPath === null || workerPath === null) {
      throw new BackendError(
        'wasmThreads: this version of @tensorflow/tfjs-backend-wasm did not start its threaded build as expected (use wasmThreads: 1)',
      );
    }
    letProcessExit(backend);
    return backend;
  } finally {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
}

/** The Emscripten pool's workers (Node `Worker`s), as the threaded module keeps them. */
interface PThreadPool {
  unusedWorkers: NodeWorker[];
  runningWorkers: NodeWorker[];
}
interface NodeWorker {
  ref?(): void;
  unref?(): void;
}

/**
 * Emscripten refs a worker while it runs a thread, and XNNPACK's pool threads run (asleep) for
 * the backend's whole life, so the process would never exit by itself: unref them all, now and
 * whenever a thread starts on one.
 */
function letProcessExit(backend: tf.KernelBackend): void {
  const pool = (backend as unknown as { wasm?: { PThread?: PThreadPool } }).wasm?.PThread;
  if (!pool) return;
  for (const w of [...pool.unusedWorkers, ...pool.runningWorkers]) {
    w.ref = () => {};
    w.unref?.();
  }
}

/** The process's folder for the two scripts, removed when the process exits. */
function scripts(): string {
  if (scriptsDir === null) {
    const dir = mkdtempSync(join(tmpdir(), 'spiketrack-wasm-threads-'));
    scriptsDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return scriptsDir;
}

/**
 * Declarations of the bundle-scope names the module's script uses once it runs on its own: the
 * bundle's `var require$$N = require('…')` lines, and `commonjsGlobal`.
 */
function bundleScopePrelude(require: NodeJS.Require): string {
  const bundle = readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm'), 'utf8');
  const lines = ['var commonjsGlobal = globalThis;'];
  for (const m of bundle.matchAll(/^var (require\$\$\d+) = require\('([^']+)'\);$/gm)) {
    lines.push(`var ${m[1]} = require(${JSON.stringify(m[2])});`);
  }
  return lines.join('\n');
}
