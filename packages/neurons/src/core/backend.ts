import * as tf from '@tensorflow/tfjs-core';
import { registerWasmBatchMatMul } from '../kernels/wasm-batch-matmul';
import { registerWasmIdentity } from '../kernels/wasm-identity';
import { registerWasmSlice } from '../kernels/wasm-slice';
import { registerWasmDepthwise } from '../kernels/wasm-depthwise';
import { registerWasmConvGradients } from '../kernels/wasm-conv-backprop';
import { BackendError, ConfigError } from './errors';
import { ensureGradients } from './gradients';

/** Backends spiketrack runs on. `tensorflow` is tfjs-node(-gpu), when the user has installed it. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu' | 'tensorflow';

export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'wasm', 'cpu', 'tensorflow'];

/** What {@link selectBackend} chose, and why the others were passed over. */
export interface BackendSelection {
  backend: BackendName;
  /** The adapter's description for WebGPU (vendor / architecture / device), when known. */
  adapter?: string;
  /** Backends tried before the chosen one, with the reason each was skipped. */
  skipped: { backend: BackendName; reason: string }[];
  /** For wasm: the threads its kernels run on (XNNPACK's pool; see `wasmThreads`). */
  threads?: number;
}

/** Loads a backend's package (which registers the backend), given the selection's options. */
type Loader = (options: SelectBackendOptions) => Promise<unknown>;

/** What the wasm package offers for threads (tfjs-backend-wasm's exports). */
interface WasmThreadsApi {
  setThreadsCount?(n: number): void;
  getThreadsCount?(): number;
}

/**
 * Loaders of the backend packages. They are dynamic imports so that the packages stay optional
 * peers: only the backend that is used needs to be installed. The `/node` entry replaces the
 * WebGPU loader with one that sets up Dawn first.
 */
const loaders: Record<BackendName, Loader> = {
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
  wasm: async (options) => {
    const pkg: WasmThreadsApi = await import('@tensorflow/tfjs-backend-wasm');
    // browsers: tfjs runs the threaded build where the page is cross-origin isolated, on at most
    // half the cores; this sets the count for the backend's first start
    if (options.wasmThreads !== undefined) pkg.setThreadsCount?.(options.wasmThreads);
    return pkg;
  },
  webgpu: async () => {
    if (typeof navigator === 'undefined' || !(navigator as { gpu?: unknown }).gpu) {
      throw new BackendError(
        'WebGPU is not available: navigator.gpu is undefined (in Node, import selectBackend from "@spiketrack/neurons/node", which sets up Dawn through the optional "webgpu" package)',
      );
    }
    return import('@tensorflow/tfjs-backend-webgpu');
  },
  tensorflow: async () => {
    // Optional and not declared: loaded only if the user installed it.
    const names = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
    const errors: string[] = [];
    for (const n of names) {
      try {
        return await import(/* @vite-ignore */ n);
      } catch (e) {
        errors.push(`${n}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    throw new BackendError(
      `the 'tensorflow' backend needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed (${errors.join('; ')})`,
    );
  },
};

/** Replaces how a backend's package is loaded (used by the `/node` entry for Dawn). */
export function setBackendLoader(name: BackendName, loader: Loader): void {
  loaders[name] = loader;
}

/** Describes the WebGPU adapter tfjs uses, if any. */
function describeWebGPUAdapter(): string | undefined {
  try {
    const backend = tf.backend() as unknown as { adapterInfo?: Record<string, unknown> };
    const info = backend.adapterInfo;
    if (!info) return undefined;
    const parts = ['vendor', 'architecture', 'device', 'description']
      .map((k) => info[k])
      .filter((v): v is string => typeof v === 'string' && v.length > 0);
    return parts.join(' / ') || undefined;
  } catch {
    return undefined;
  }
}

async function trySet(name: BackendName, options: SelectBackendOptions): Promise<unknown> {
  let pkg: unknown;
  try {
    pkg = await loaders[name](options);
  } catch (e) {
    if (e instanceof BackendError) throw e;
    throw new BackendError(`cannot load the '${name}' backend: ${(e as Error).message}`);
  }
  // Now that wasm's own kernels are registered, swap its slow native Conv2DBackpropInput and its
  // slow transposed BatchMatMul, its copying Identity, and its Slice and Unpack, which copy the
  // whole input for every output.
  if (name === 'wasm') {
    registerWasmConvGradients();
    registerWasmBatchMatMul();
    registerWasmIdentity();
    registerWasmSlice();
    registerWasmDepthwise();
  }
  const registryName = name;
  if (!tf.findBackendFactory(registryName)) {
    throw new BackendError(
      `the '${name}' backend did not register with tfjs-core (is a second copy of tfjs-core installed?)`,
    );
  }
  let ok = false;
  let cause = '';
  try {
    ok = await tf.setBackend(registryName);
  } catch (e) {
    cause = (e as Error).message;
  }
  if (!ok) {
    tf.removeBackend(registryName);
    const hint =
      name === 'webgpu'
        ? 'no WebGPU adapter was found (in Node, install a Vulkan driver: see PLATFORM notes in the README)'
        : 'initialization failed';
    throw new BackendError(`the '${name}' backend could not start: ${hint}${cause ? ` (${cause})` : ''}`);
  }
  await tf.ready();
  await ensureGradients();
  return pkg;
}

/**
 * Whether a WebGPU adapter description names a CPU rasterizer (SwiftShader, llvmpipe/lavapipe, a
 * "fallback" or "software" adapter): there WebGPU is far slower than wasm on the same CPU.
 */
export function isSoftwareWebGPUAdapter(description: string | undefined): boolean {
  return /swiftshader|llvmpipe|lavapipe|software|fallback/i.test(description ?? '');
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /**
   * With `auto`: accept a WebGPU adapter that is a software rasterizer (SwiftShader, llvmpipe).
   * Default false: `auto` passes over it (it is slower than wasm) and says so in `skipped`. A
   * named `'webgpu'` always uses whatever adapter there is.
   */
  allowSoftwareWebGPU?: boolean;
  /**
   * Threads for the wasm backend's kernels (XNNPACK's thread pool), set when the backend starts.
   * In Node (`@spiketrack/neurons/node`) tfjs runs wasm on one thread; this starts its threaded
   * build there, capped at the machine's cores and 8. Default 1 in Node; in browsers tfjs's own
   * default (threads only on cross-origin-isolated pages, at most half the cores).
   */
  wasmThreads?: number;
}

/**
 * Sets the tfjs backend.
 *
 * `auto` tries WebGPU (on a hardware adapter, unless `allowSoftwareWebGPU`), then tfjs-node(-gpu),
 * then wasm, then cpu, and reports what it chose and why it skipped the others. A named backend
 * that cannot start throws a {@link BackendError}.
 */
export async function selectBackend(
  name: BackendName | 'auto' = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  if (name !== 'auto' && !BACKEND_NAMES.includes(name)) {
    throw new ConfigError(
      `unknown backend '${name as string}'; expected one of auto, ${BACKEND_NAMES.join(', ')}`,
    );
  }
  const order: BackendName[] = name === 'auto' ? ['webgpu', 'tensorflow', 'wasm', 'cpu'] : [name];
  const skipped: BackendSelection['skipped'] = [];
  for (const b of order) {
    let pkg: unknown;
    try {
      pkg = await trySet(b, options);
    } catch (e) {
      if (name !== 'auto') throw e;
      skipped.push({ backend: b, reason: (e as Error).message });
      continue;
    }
    const selection: BackendSelection = { backend: b, skipped };
    if (b === 'wasm') {
      const count = (pkg as WasmThreadsApi | undefined)?.getThreadsCount?.();
      if (typeof count === 'number' && count > 0) selection.threads = count;
    }
    if (b === 'webgpu') {
      const adapter = describeWebGPUAdapter();
      if (adapter) selection.adapter = adapter;
      if (name === 'auto' && !options.allowSoftwareWebGPU && isSoftwareWebGPUAdapter(adapter)) {
        skipped.push({
          backend: b,
          reason: `${adapter} is a software adapter, slower than wasm here (select 'webgpu' by name, or pass allowSoftwareWebGPU, to use it)`,
        });
        continue;
      }
    }
    return selection;
  }
  throw new BackendError(
    `no backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
  );
}
