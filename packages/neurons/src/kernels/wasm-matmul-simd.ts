/**
 * A WebAssembly SIMD batched matrix product. tfjs-backend-wasm's `BatchMatMul` hands a single
 * product to XNNPACK but runs batches of them (multi-head attention: `q·kv` and `kᵀ·v` per head)
 * at 1–3 GFLOP/s, and transposed ones at 0.1; this kernel runs them at 8–20 on 2 cores' machines
 * (`[8, 256, 16]·[8, 16, 64]`: 3.6 → 0.3–1.8 ms).
 *
 * For each row of A it keeps up to 16 output columns in registers and accumulates the rank-1
 * updates `A[m, k] · B[k, :]` for k = 0, 1, … (multiply, then add), straight from the heap.
 * Columns past the last multiple of 4 run in a JavaScript loop with the same order of summation.
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  body,
  f32x4add,
  f32x4mul,
  f32x4splat,
  I32,
  countedLoop,
  increment,
  perMemory,
  loadAt,
  op,
  range,
  storeAt,
  UNROLLS,
  unrollFor,
  V128,
  v128zero,
} from './wasm-assembler';
import { backendMemory, heapOffset, type WasmBackend } from './wasm-heap';

/** `(a, b, y, m, k, rowBytesB, coverBytes, rowBytesA)`: one product `[m, k] · [k, n]`, `rowBytesB = 4n`. */
type MatMulSimd = (
  a: number,
  b: number,
  y: number,
  m: number,
  k: number,
  rowB: number,
  cover: number,
  rowA: number,
) => void;

/**
 * params: 0 a, 1 b, 2 y, 3 m, 4 k, 5 rowB, 6 cover, 7 rowA; locals: 8 r, 9 nb, 10 j, 11 aa, 12 ba,
 * 13 ya, 14 aRow (i32), 15 splat, then acc_u (v128)
 */
function matMulBody(unroll: number): number[] {
  const [A, B, Y, M, K, ROWB, COVER, ROWA] = [0, 1, 2, 3, 4, 5, 6, 7] as const;
  const [R, NB, J, AA, BA, YA, AROW, SPLAT] = [8, 9, 10, 11, 12, 13, 14, 15] as const;
  const ACC = (u: number) => 16 + u;
  const inner = countedLoop(
    J,
    K,
    [
      ...[op.get(AA), op.f32load, f32x4splat, op.set(SPLAT)],
      ...range(unroll).flatMap((u) => [
        ...[op.get(ACC(u)), op.get(SPLAT), op.get(BA), loadAt(16 * u), f32x4mul, f32x4add, op.set(ACC(u))],
      ]),
    ],
    [...increment(AA, [op.i32const(4)]), ...increment(BA, [op.get(ROWB)])],
  );
  const columns = countedLoop(
    NB,
    COVER,
    [
      ...range(unroll).flatMap((u) => [v128zero, op.set(ACC(u))]),
      ...[op.get(AROW), op.set(AA), op.get(B), op.get(NB), op.i32add, op.set(BA)],
      ...inner,
      ...range(unroll).flatMap((u) => [op.get(YA), op.get(NB), op.i32add, op.get(ACC(u)), storeAt(16 * u)]),
    ],
    [],
    [op.i32const(16 * unroll)],
  );
  return body(
    [
      [7, I32],
      [1 + unroll, V128],
    ],
    [
      ...[op.get(A), op.set(AROW), op.get(Y), op.set(YA)],
      ...countedLoop(R, M, columns, [...increment(AROW, [op.get(ROWA)]), ...increment(YA, [op.get(ROWB)])]),
    ],
  );
}

/** The functions for {@link UNROLLS} on a memory, or null without WebAssembly SIMD. */
const functionsFor = perMemory<MatMulSimd>(() =>
  UNROLLS.map((u) => ({ params: new Array<number>(8).fill(I32), body: matMulBody(u) })),
);

/** Columns `[from, n)` of `y = a·b` for one batch item, in the SIMD code's order of summation. */
function matMulLoop(
  a: Float32Array,
  b: Float32Array,
  y: Float32Array,
  at: { a: number; b: number; y: number },
  m: number,
  k: number,
  n: number,
  from: number,
): void {
  for (let r = 0; r < m; r++) {
    for (let c = from; c < n; c++) {
      let acc = Math.fround(0);
      for (let j = 0; j < k; j++) {
        acc = Math.fround(
          acc + Math.fround((a[at.a + r * k + j] as number) * (b[at.b + j * n + c] as number)),
        );
      }
      y[at.y + r * n + c] = acc;
    }
  }
}

/**
 * Whether {@link simdBatchMatMul} is the faster kernel for `[batch, m, k] · [batch, k, n]`: for
 * more than one product. A single product stays with XNNPACK (25–35 GFLOP/s).
 */
export function prefersSimdMatMul(batch: number): boolean {
  return batch > 1;
}

/**
 * `y = a·b` for float32 `a` (`batchA` products `[m, k]`) and `b` (`batchB` products `[k, n]`; a
 * batch of 1 broadcasts), neither transposed, as a new tensor of shape `outShape`. Returns null
 * where WebAssembly SIMD is unavailable.
 */
export function simdBatchMatMul(
  backend: tf.KernelBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  dims: { batchA: number; batchB: number; m: number; k: number; n: number },
  outShape: number[],
): tf.TensorInfo | null {
  const be = backend as WasmBackend;
  const fs = functionsFor(backendMemory(be));
  if (!fs) return null;
  const { batchA, batchB, m, k, n } = dims;
  const batch = Math.max(batchA, batchB);
  const out = be.makeOutput(outShape, 'float32');
  if (batch * m * n === 0) return out;
  if (k === 0) {
    (be.typedArrayFromHeap(out) as Float32Array).fill(0);
    return out;
  }
  const covered = n - (n % 4);
  const strideA = batchA === 1 ? 0 : m * k;
  const strideB = batchB === 1 ? 0 : k * n;
  if (covered > 0) {
    const run = fs[unrollFor(covered / 4)] as MatMulSimd;
    const aAt = heapOffset(be, a);
    const bAt = heapOffset(be, b);
    const yAt = heapOffset(be, out);
    for (let i = 0; i < batch; i++) {
      run(aAt + 4 * i * strideA, bAt + 4 * i * strideB, yAt + 4 * i * m * n, m, k, 4 * n, 4 * covered, 4 * k);
    }
  }
  if (covered < n) {
    const [av, bv, yv] = [a, b, out].map((t) => be.typedArrayFromHeap(t)) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    for (let i = 0; i < batch; i++) {
      matMulLoop(av, bv, yv, { a: i * strideA, b: i * strideB, y: i * m * n }, m, k, n, covered);
    }
  }
  return out;
}
