/**
 * A faster `BatchMatMul` for tfjs-backend-wasm 4.22 when an operand is transposed.
 *
 * The backend's kernel is fast on plain products but falls back to a slow loop when `transposeA`
 * or `transposeB` is set: 6–9× slower on the shapes of a linear layer's gradients
 * (`dW = xᵀ·dy`, `dx = dy·Wᵀ`), which is where training spends them. The replacement transposes
 * the operand with the backend's `Transpose` and runs the plain product. Results agree with the
 * native kernel to float32 rounding (the sums may be accumulated in another order; checked
 * against float64 products by `wasm-batch-matmul.test.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel } from './wasm-replace';

const KERNEL = 'BatchMatMul';
const BACKEND = 'wasm';

let native: tf.KernelFunc | null = null;

/** Swaps the last two axes of a kernel input with the backend's own `Transpose`. */
function transposeLastTwo(x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  const transpose = tf.getKernel('Transpose', BACKEND);
  if (!transpose) throw new Error('wasm BatchMatMul: the wasm backend has no Transpose kernel');
  return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

function fastBatchMatMul(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const run = native as tf.KernelFunc;
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (!attrs.transposeA && !attrs.transposeB) return run(args);
  const backend = args.backend as tf.KernelBackend;
  const temps: tf.TensorInfo[] = [];
  let a = args.inputs.a as tf.TensorInfo;
  let b = args.inputs.b as tf.TensorInfo;
  try {
    if (attrs.transposeA) {
      a = transposeLastTwo(a, backend);
      temps.push(a);
    }
    if (attrs.transposeB) {
      b = transposeLastTwo(b, backend);
      temps.push(b);
    }
    return run({ ...args, inputs: { a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * Replaces the `wasm` backend's `BatchMatMul` with one that transposes explicitly (see the file's
 * comment). Call it after tfjs-backend-wasm is loaded (`selectBackend('wasm')` does); without the
 * backend it does nothing. Idempotent; returns whether it replaced the kernel now.
 */
export function registerWasmBatchMatMul(): boolean {
  const replaced = replaceWasmKernel(KERNEL, fastBatchMatMul as tf.KernelFunc);
  if (replaced) native = replaced;
  return replaced !== null;
}
