// The benchmark backends by name, one place for model.bench.mjs and timestep-ratio.mjs:
// - wasm: tfjs-backend-wasm on one thread;
// - wasm-mt: wasm on XNNPACK's thread pool, one thread per core (selectBackend's wasmThreads);
// - wasm-2t: wasm with its large convolutions split between two threads (enableWasmConvThreads);
// - anything else (cpu, webgpu, tensorflow): selectBackend's own names.
import { availableParallelism } from 'node:os';
import { enableWasmConvThreads, selectBackend } from '@spiketrack/neurons/node';

/** Selects the benchmark backend `name`; throws when it cannot start here. */
export async function selectBenchBackend(name) {
  const wasm = name === 'wasm-mt' || name === 'wasm-2t';
  await selectBackend(
    wasm ? 'wasm' : name,
    name === 'wasm-mt' ? { wasmThreads: availableParallelism() } : {},
  );
  if (name === 'wasm-2t' && !(await enableWasmConvThreads())) throw new Error('conv threads did not start');
}
