/**
 * `@spiketrack/neurons/node`: Node-only additions (file IO, Dawn WebGPU setup, two-thread wasm
 * convolutions).
 * Importing it sets up WebGPU in Node on demand; it has no effect until a backend is selected.
 */
export { installNodeWebGPU, probeWebGPUAdapter, selectBackend } from './backend';
export * from './io';
export {
  disableWasmConvThreads,
  enableWasmConvThreads,
  type WasmConvThreadsOptions,
  type WasmConvThreadsStats,
  wasmConvThreadsEnabled,
  wasmConvThreadsStats,
} from './wasm-conv-threads';
