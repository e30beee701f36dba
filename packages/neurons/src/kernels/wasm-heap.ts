/**
 * What our wasm kernels use of tfjs-backend-wasm's `BackendWasm` (public members): its memory,
 * where each tensor lives on the heap, and allocation.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's `BackendWasm` our kernels use. */
export interface WasmBackend extends tf.KernelBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.backend_util.TypedArray;
}

/** The byte address of `t`'s data on the wasm heap. */
export const heapOffset = (b: WasmBackend, t: tf.TensorInfo): number =>
  b.dataIdMap.get(t.dataId).memoryOffset;

/**
 * The backend's wasm memory: exported by the single-threaded builds (`asm.memory`), imported (and
 * shared) by the threaded one (`wasmMemory`).
 */
export const backendMemory = (b: WasmBackend): WebAssembly.Memory | undefined =>
  b.wasm.asm?.memory ?? b.wasm.wasmMemory;
