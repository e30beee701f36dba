import { type BackendName, selectBackend } from '@spiketrack/neurons';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The backend the page runs on, and why. */
export interface BackendInfo {
  backend: BackendName;
  /** The WebGPU adapter (vendor / architecture / device), or a description of the wasm build. */
  adapter: string;
  /** Set when WebGPU was wanted but could not start: the reason, for the visible notice. */
  fallbackReason: string | null;
}

async function startWasm(): Promise<string> {
  // Loaded only when needed (a WebGPU page never downloads it). The app serves tfjs's wasm
  // binaries itself (Vite emits them as assets): nothing comes from a CDN.
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
  });
  await selectBackend('wasm');
  const threads = wasm.getThreadsCount();
  const isolated = globalThis.crossOriginIsolated === true;
  return `wasm, ${threads} thread${threads === 1 ? '' : 's'}${isolated ? '' : ' (page not cross-origin isolated)'}`;
}

/** Why this browser cannot run WebGPU, or null when it has an adapter. */
async function webgpuMissing(): Promise<string | null> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu)
    return 'this browser has no WebGPU (navigator.gpu is undefined; it also needs https or localhost)';
  try {
    if (!(await gpu.requestAdapter())) {
      return 'the browser found no WebGPU adapter (WebGPU is disabled, or the GPU or its driver is not supported)';
    }
  } catch (e) {
    return `requesting a WebGPU adapter failed: ${(e as Error).message}`;
  }
  return null;
}

/**
 * WebGPU when the browser has an adapter, else wasm with the reason. `wanted` = `wasm` skips
 * WebGPU on purpose (`?backend=wasm`), which is not a fallback.
 */
export async function startBackend(wanted: 'auto' | 'webgpu' | 'wasm'): Promise<BackendInfo> {
  if (wanted === 'wasm') return { backend: 'wasm', adapter: await startWasm(), fallbackReason: null };
  let reason = await webgpuMissing();
  if (reason !== null) {
    if (wanted === 'webgpu') throw new Error(reason);
    return { backend: 'wasm', adapter: await startWasm(), fallbackReason: reason };
  }
  try {
    const sel = await selectBackend('webgpu');
    return { backend: 'webgpu', adapter: sel.adapter ?? 'unknown adapter', fallbackReason: null };
  } catch (e) {
    reason = (e as Error).message;
    if (wanted === 'webgpu') throw e;
  }
  return { backend: 'wasm', adapter: await startWasm(), fallbackReason: reason };
}
