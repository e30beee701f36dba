import { BACKEND_NAMES, type BackendName } from '@spiketrack/neurons';
import { availableParallelism } from 'node:os';
import {
  disableWasmConvThreads,
  enableWasmConvThreads,
  selectBackend,
  wasmConvThreadsEnabled,
} from '@spiketrack/neurons/node';
import { type CliIO, UsageError } from './command';

/** The `--backend` and `--threads` options shared by the commands that run a network. */
export const BACKEND_OPTION = {
  backend: { type: 'string', default: 'auto' },
  threads: { type: 'string' },
} as const;

/** Help lines for {@link BACKEND_OPTION}. */
export const BACKEND_HELP =
  "  --backend NAME        auto | webgpu | wasm | cpu | tensorflow (default auto: WebGPU on a hardware adapter,\n                         then tfjs-node, then wasm, then cpu)\n  --threads N|auto      wasm: threads of its kernels (XNNPACK's pool; the same results, bit for bit;\n                         auto: every core, at most 8; default auto, but 1 for train, and for eval\n                         the cores shared among the workers)";

/**
 * The wasm threads `--threads` asks for: a positive integer, or `auto` (undefined: `fallback`)
 * for every core (the backend caps it at 8).
 */
export function parseThreads(value: unknown, fallback: number | 'auto'): number {
  const v = value === undefined ? fallback : value;
  if (v === 'auto') return availableParallelism();
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--threads must be a positive integer or auto, got '${String(v)}'`);
  }
  return n;
}

/**
 * Selects the backend named on the command line, with `threads` for wasm, and reports the choice
 * (and why) on stderr.
 */
export async function selectCliBackend(value: unknown, io: CliIO, threads?: number): Promise<BackendName> {
  const name = String(value ?? 'auto');
  if (name !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`--backend must be one of auto, ${BACKEND_NAMES.join(', ')}; got '${name}'`);
  }
  // auto picks the fastest: it passes over a software WebGPU adapter (--backend webgpu still uses it)
  const chosen = await selectBackend(
    name as BackendName | 'auto',
    threads === undefined ? {} : { wasmThreads: threads },
  );
  const skipped = chosen.skipped.map((s) => `${s.backend}: ${s.reason}`);
  io.stderr.write(
    `backend: ${chosen.backend}${chosen.adapter ? ` (${chosen.adapter})` : ''}${
      chosen.threads ? ` (${chosen.threads} thread${chosen.threads > 1 ? 's' : ''})` : ''
    }${skipped.length ? ` — skipped ${skipped.join('; ')}` : ''}\n`,
  );
  return chosen.backend;
}

/** The `--conv-threads` option of the commands that run a network on one sequence. */
export const CONV_THREADS_OPTION = { 'conv-threads': { type: 'boolean', default: false } } as const;

/** Help line for {@link CONV_THREADS_OPTION}. */
export const CONV_THREADS_HELP =
  '  --conv-threads         wasm: run each large convolution and product on two threads (a worker takes\n                         half; the same results, bit for bit; up to 1.7× faster per frame on 2 cores)';

/**
 * Turns on two-thread wasm convolutions (`enableWasmConvThreads` of `@spiketrack/neurons/node`)
 * when `--conv-threads` is given and the backend is wasm, and says so on stderr (on another
 * backend, that it is ignored). Returns whether they are on, and a function that turns them off.
 */
export async function cliConvThreads(
  values: Record<string, unknown>,
  backend: BackendName,
  io: CliIO,
): Promise<{ on: boolean; off: () => Promise<void> }> {
  const none = { on: false, off: async () => {} };
  if (!values['conv-threads']) return none;
  if (backend !== 'wasm') {
    io.stderr.write(`--conv-threads: only the wasm backend splits convolutions; ignored on ${backend}\n`);
    return none;
  }
  if (!(await enableWasmConvThreads())) {
    if (wasmConvThreadsEnabled()) {
      io.stderr.write('--conv-threads: the convolution threads were already on\n');
      return { on: true, off: async () => {} };
    }
    io.stderr.write("--conv-threads: not needed, the backend runs on XNNPACK's threads (--threads)\n");
    return none;
  }
  io.stderr.write('conv threads: large convolutions split between this thread and a worker thread\n');
  return { on: true, off: () => disableWasmConvThreads() };
}
