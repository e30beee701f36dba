/**
 * `@spiketrack/neurons/node`: Node-only additions (file IO, Dawn WebGPU setup).
 * Importing it sets up WebGPU in Node on demand; it has no effect until a backend is selected.
 */
export { installNodeWebGPU, probeWebGPUAdapter, selectBackend } from './backend';
export * from './io';
