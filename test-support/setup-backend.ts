/**
 * Vitest setup: selects the backend named by SPIKETRACK_BACKEND (cpu, wasm, webgpu) before any
 * test runs. WebGPU uses Dawn in Node. Without an adapter, WebGPU tests are skipped with a message,
 * except in CI (CI=true), where a missing adapter is a failure.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, beforeEach } from 'vitest';
import { selectBackend } from '../packages/neurons/src/node/index';

const backend = (process.env.SPIKETRACK_BACKEND ?? 'cpu') as 'cpu' | 'wasm' | 'webgpu';
let unavailable: string | null = null;

// SPIKETRACK_WASM_THREADS=N runs the wasm suite on XNNPACK's threads (default: one thread)
const wasmThreads = process.env.SPIKETRACK_WASM_THREADS
  ? Number(process.env.SPIKETRACK_WASM_THREADS)
  : undefined;

try {
  const selection = await selectBackend(backend, backend === 'wasm' && wasmThreads ? { wasmThreads } : {});
  if (wasmThreads && selection.threads !== Math.min(wasmThreads, availableParallelism())) {
    throw new Error(`asked for ${wasmThreads} wasm threads, the backend runs ${selection.threads}`);
  }
} catch (e) {
  if (backend === 'webgpu' && process.env.CI !== 'true') {
    unavailable = (e as Error).message;
  } else {
    throw new Error(
      `test backend '${backend}' is required here but could not start: ${(e as Error).message}`,
    );
  }
}

if (unavailable) {
  let warned = false;
  beforeAll(() => {
    if (!warned) {
      console.warn(`[spiketrack] skipping WebGPU tests: ${unavailable}`);
      warned = true;
    }
  });
  beforeEach((ctx) => {
    ctx.skip();
  });
} else if (tf.getBackend() !== backend) {
  throw new Error(`expected backend '${backend}', tfjs is on '${tf.getBackend()}'`);
}
