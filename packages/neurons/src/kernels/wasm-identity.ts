/**
 * A zero-copy `Identity` for tfjs-backend-wasm 4.22.
 *
 * The backend's `Identity` allocates a new buffer and copies the input into it. tfjs-core calls it
 * for every `tf.clone`, and the gradient tape clones every tensor it saves for the backward pass,
 * so each training step copies all of its activations (about 11 000 clones per step of the bundled
 * model). Tensors are immutable and the backend counts references (its `Reshape` shares buffers
 * the same way), so the replacement shares the input's buffer, as the cpu backend's `Identity` does.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel } from './wasm-replace';

function sharedIdentity({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const x = inputs.x as tf.TensorInfo;
  (backend as tf.KernelBackend & { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * Replaces the `wasm` backend's `Identity` with one that shares the input's buffer (see the file's
 * comment). Call it after tfjs-backend-wasm is loaded (`selectBackend('wasm')` does); without the
 * backend it does nothing. Idempotent; returns whether it replaced the kernel now.
 */
export function registerWasmIdentity(): boolean {
  return replaceWasmKernel('Identity', sharedIdentity as tf.KernelFunc) !== null;
}
