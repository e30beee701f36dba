import * as tf from '@tensorflow/tfjs-core';
import { lifBackward, niLifBackward } from './backward';
import { cpuKernels } from './cpu';
import { lifAttrs, niLifAttrs } from './kernel-util';
import { LIF_KERNEL, NI_LIF_KERNEL } from './names';
import { wasmKernels } from './wasm';
import { webgpuKernels } from './webgpu';

/** The backends that have fused neuron kernels. */
export const FUSED_KERNEL_BACKENDS: readonly string[] = ['cpu', 'wasm', 'webgpu'];

function onlySpikes(kernel: string, output: unknown): void {
  if (output !== 'spikes') {
    throw new Error(
      `${kernel}: only the spike output is differentiable (got output '${String(output)}'); higher-order gradients of the fused neurons are not supported`,
    );
  }
}

const gradients: tf.GradConfig[] = [
  {
    kernelName: NI_LIF_KERNEL,
    inputsToSave: ['x', 'decayLogits'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const a = niLifAttrs(attrs);
      onlySpikes(NI_LIF_KERNEL, a.output);
      const [x, decayLogits, spikes] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [dx, dLogits] = tf.tidy(() => niLifBackward(x, decayLogits, spikes, dy as tf.Tensor, a));
      return { x: () => dx, decayLogits: () => dLogits };
    },
  },
  {
    kernelName: LIF_KERNEL,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const a = lifAttrs(attrs);
      onlySpikes(LIF_KERNEL, a.output);
      const [x, spikes] = saved as [tf.Tensor, tf.Tensor];
      const dx = tf.tidy(() => lifBackward(x, spikes, dy as tf.Tensor, a));
      return { x: () => dx };
    },
  },
];

let registered = false;

/**
 * Registers the fused multi-step neuron kernels ({@link NI_LIF_KERNEL}, {@link LIF_KERNEL}) for the
 * `cpu`, `wasm` and `webgpu` backends, and their gradients, with `tf.registerKernel` /
 * `tf.registerGradient`. Idempotent: later calls do nothing, and kernels someone else already
 * registered under these names are left alone. {@link niLifFused} and {@link lifFused} call it
 * themselves; call it directly to run the kernels through `tf.engine().runKernel`.
 *
 * Registering has no effect on a backend that is not used; a backend needs no import for it.
 * Returns the backends that have the kernels.
 */
export function registerFusedNeuronKernels(): readonly string[] {
  if (!registered) {
    for (const k of [...cpuKernels, ...wasmKernels, ...webgpuKernels]) {
      if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k);
    }
    for (const g of gradients) {
      if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
    }
    registered = true;
  }
  return FUSED_KERNEL_BACKENDS;
}

/** Whether the active backend (or `backend`) runs fused kernel `kernel` (after registration). */
export function hasFusedKernel(kernel: string, backend: string = tf.getBackend()): boolean {
  registerFusedNeuronKernels();
  return tf.getKernel(kernel, backend) !== undefined;
}
