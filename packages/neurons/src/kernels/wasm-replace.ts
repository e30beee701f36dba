/**
 * Swapping a kernel of tfjs-backend-wasm for one of ours, as the `registerWasm*` functions do.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Registers `kernelFunc` as the `wasm` backend's kernel `kernelName`, keeping the registered
 * kernel's setup and dispose (they bind the wasm functions its own code calls). Returns the kernel
 * function it replaced, or null when the backend is not loaded or `kernelFunc` is already there.
 */
export function replaceWasmKernel(kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelFunc | null {
  const current = tf.getKernel(kernelName, 'wasm');
  if (!current || current.kernelFunc === kernelFunc) return null;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...current, kernelFunc });
  return current.kernelFunc;
}
