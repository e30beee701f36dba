/**
 * A faster `BatchMatMul` for tfjs-backend-wasm 4.22 when an operand is transposed, and for many
 * small products.
 *
 * The backend's kernel is fast on plain products but falls back to a slow loop when `transposeA`
 * or `transposeB` is set: 6–9× slower on the shapes of a linear layer's gradients
 * (`dW = xᵀ·dy`, `dx = dy·Wᵀ`), which is where training spends them. The replacement transposes
 * the operand with the backend's `Transpose` and runs the plain product. Batches of products
 * (batch > 1: multi-head attention) go to the SIMD kernel of `wasm-matmul-simd.ts`, which is 4–10×
 * faster there; single products to the backend's. Results agree with the native kernel to
 * float32 rounding (the sums may be accumulated in another order; checked against float64
 * products by `wasm-batch-matmul.test.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel } from './wasm-replace';
import { prefersSimdMatMul, simdBatchMatMul } from './wasm-matmul-simd';

const KERNEL = 'BatchMatMul';
const BACKEND = 'wasm';

let native: tf.KernelFunc | null = null;
let simdEnabled = true;

/**
 * Turns the SIMD kernel for batches of products off (`false`: the backend's kernel runs them) or
 * back on; returns the previous setting. For tests and benchmarks.
 */
export function setWasmSimdMatMulEnabled(on: boolean): boolean {
  const was = simdEnabled;
  simdEnabled = on;
  return was;
}

/** The product of the leading (batch) dimensions of a kernel input. */
const batchOf = (t: tf.TensorInfo) => t.shape.slice(0, -2).reduce((p, d) => p * d, 1);

/**
 * The plain product `a·b` (inputs of rank 2 or more): the SIMD kernel for batches of float32
 * products whose batch dimensions are equal or one-sided, else the backend's.
 */
function plainProduct(args: Parameters<tf.KernelFunc>[0], a: tf.TensorInfo, b: tf.TensorInfo) {
  const [batchA, batchB] = [batchOf(a), batchOf(b)];
  const batch = Math.max(batchA, batchB);
  const lead = (batchA >= batchB ? a : b).shape.slice(0, -2);
  const sameLead =
    batchA === 1 ||
    batchB === 1 ||
    (a.shape.length === b.shape.length && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]));
  if (simdEnabled && sameLead && a.dtype === 'float32' && b.dtype === 'float32' && prefersSimdMatMul(batch)) {
    const [m, k] = a.shape.slice(-2) as [number, number];
    const n = b.shape[b.shape.length - 1] as number;
    const y = simdBatchMatMul(args.backend as tf.KernelBackend, a, b, { batchA, batchB, m, k, n }, [
      ...lead,
      m,
      n,
    ]);
    if (y) return y;
  }
  return (native as tf.KernelFunc)({
    ...args,
    inputs: { a, b },
    attrs: { ...args.attrs, transposeA: false, transposeB: false },
  });
}

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
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (!attrs.transposeA && !attrs.transposeB) {
    return plainProduct(args, args.inputs.a as tf.TensorInfo, args.inputs.b as tf.TensorInfo);
  }
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
    return plainProduct(args, a, b);
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
