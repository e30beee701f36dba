import {
  type BackendName,
  type BackendSelection,
  type SelectBackendOptions,
  selectBackend as selectBackendCore,
  setBackendLoader,
} from '../core/backend';
import { BackendError } from '../core/errors';
import { prepareWasmThreads } from './wasm-threads';
import { installNodeWebGPU, probeWebGPUAdapter } from './webgpu-setup';

setBackendLoader('wasm', async (options) => {
  const pkg = await import('@tensorflow/tfjs-backend-wasm');
  prepareWasmThreads(pkg, options.wasmThreads);
  return pkg;
});

setBackendLoader('webgpu', async () => {
  if (!(await installNodeWebGPU())) {
    throw new BackendError(
      "WebGPU in Node needs the optional 'webgpu' package (npm i webgpu) and a Vulkan driver",
    );
  }
  const adapter = await probeWebGPUAdapter();
  if (!adapter) {
    throw new BackendError(
      'no WebGPU adapter was found by Dawn. Without a GPU, install a Vulkan driver that Dawn accepts, e.g. Debian: apt-get install -y chromium libvulkan1 (SwiftShader), or set VK_ICD_FILENAMES',
    );
  }
  return import('@tensorflow/tfjs-backend-webgpu');
});

/**
 * {@link selectBackendCore | selectBackend} for Node: WebGPU goes through Dawn (the optional
 * `webgpu` package) with a Vulkan driver, found automatically where Debian's SwiftShader is installed;
 * wasm runs on `wasmThreads` threads (tfjs-backend-wasm's threaded build, which tfjs itself leaves
 * off in Node; see `wasm-threads.ts`).
 */
export function selectBackend(
  name: BackendName | 'auto' = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  return selectBackendCore(name, options);
}

export { installNodeWebGPU, probeWebGPUAdapter };
