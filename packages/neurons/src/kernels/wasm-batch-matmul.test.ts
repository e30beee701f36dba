import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, testBackend } from '../../../../test-support/helpers';
import { registerWasmBatchMatMul, setWasmSimdMatMulEnabled } from './wasm-batch-matmul';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** `op(a)·op(b)` in float64, with batch broadcasting (a: `[…, m, k]` or transposed). */
function naiveMatMul(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { data: Float64Array; shape: number[] } {
  const [ar, ac] = aShape.slice(-2) as [number, number];
  const [br, bc] = bShape.slice(-2) as [number, number];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const aBatch = aShape.slice(0, -2).reduce((p, d) => p * d, 1);
  const bBatch = bShape.slice(0, -2).reduce((p, d) => p * d, 1);
  const batch = Math.max(aBatch, bBatch);
  const out = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const ao = (aBatch === 1 ? 0 : z) * ar * ac;
    const bo = (bBatch === 1 ? 0 : z) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const av = a[ao + (transposeA ? p * ac + i : i * ac + p)] as number;
          const bv = b[bo + (transposeB ? j * bc + p : p * bc + j)] as number;
          sum += av * bv;
        }
        out[(z * m + i) * n + j] = sum;
      }
    }
  }
  const batchShape = (aBatch >= bBatch ? aShape : bShape).slice(0, -2);
  return { data: out, shape: [...batchShape, m, n] };
}

const cases: { name: string; a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
  { name: 'plain', a: [24, 16], b: [16, 8], tA: false, tB: false },
  { name: 'xᵀ·dy (a linear layer’s weight gradient)', a: [40, 16], b: [40, 12], tA: true, tB: false },
  { name: 'dy·Wᵀ (its input gradient)', a: [40, 12], b: [16, 12], tA: false, tB: true },
  { name: 'both transposed, batched', a: [3, 7, 5], b: [3, 9, 7], tA: true, tB: true },
  { name: 'batched, b broadcast', a: [4, 6, 5], b: [1, 6, 3], tA: true, tB: false },
  { name: 'rank 4 (attention heads)', a: [2, 3, 8, 4], b: [2, 3, 8, 4], tA: false, tB: true },
  { name: 'q·kv per head (the SIMD kernel)', a: [8, 64, 12], b: [8, 12, 48], tA: false, tB: false },
  { name: 'kᵀ·v per head (transposed, then SIMD)', a: [8, 64, 16], b: [8, 64, 64], tA: true, tB: false },
  {
    name: 'batched, a broadcast, columns not a multiple of 4',
    a: [1, 9, 7],
    b: [5, 7, 23],
    tA: false,
    tB: false,
  },
];

describe('BatchMatMul with transposed operands', () => {
  it('on wasm, the kernel is replaced once the backend is loaded (idempotent)', (ctx) => {
    if (testBackend() !== 'wasm') ctx.skip();
    // selectBackend('wasm') already swapped it; a second call changes nothing
    expect(registerWasmBatchMatMul()).toBe(false);
  });

  for (const c of cases) {
    it(`${c.name}: matches float64 products`, async () => {
      const av = values(
        c.a.reduce((p, d) => p * d, 1),
        1,
      );
      const bv = values(
        c.b.reduce((p, d) => p * d, 1),
        2,
      );
      const ref = naiveMatMul(av, c.a, bv, c.b, c.tA, c.tB);
      const out = tf.tidy(() => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.tA, c.tB));
      expect(out.shape).toEqual(ref.shape);
      expectClose(await out.data(), ref.data, 1e-5, c.name);
      out.dispose();
    });
  }

  it('batches of random shapes: float64 products, and exactly the integer products, with and without the SIMD kernel', async () => {
    let s = 17;
    const r = (n: number) => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s % n;
    };
    for (let trial = 0; trial < 40; trial++) {
      const batch = 2 + r(6);
      const [m, k, n] = [1 + r(40), 1 + r(40), 1 + r(70)];
      const aBatch = r(5) === 0 ? 1 : batch;
      const bBatch = aBatch !== 1 && r(5) === 0 ? 1 : batch;
      const av = Float32Array.from({ length: aBatch * m * k }, () => r(9) - 4);
      const bv = Float32Array.from({ length: bBatch * k * n }, () => r(7) - 3);
      const ref = naiveMatMul(av, [aBatch, m, k], bv, [bBatch, k, n], false, false);
      for (const simd of [true, false]) {
        const was = setWasmSimdMatMulEnabled(simd);
        const out = tf.tidy(() => tf.matMul(tf.tensor(av, [aBatch, m, k]), tf.tensor(bv, [bBatch, k, n])));
        setWasmSimdMatMulEnabled(was);
        expect(out.shape).toEqual(ref.shape);
        expect(Array.from(await out.data()), `[${aBatch},${m},${k}]·[${bBatch},${k},${n}]`).toEqual(
          Array.from(ref.data),
        );
        out.dispose();
      }
    }
  });

  it('the gradients of a product (which transpose) match float64, with no tensor or buffer left behind', async () => {
    const x = tf.tensor(values(40 * 16, 3), [40, 16]);
    const w = tf.tensor(values(16 * 12, 4), [16, 12]);
    const dy = tf.tensor(values(40 * 12, 5), [40, 12]);
    const grads = () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b))([x, w], dy);
    const [dx, dw] = grads();
    const [xv, wv, dyv] = (await Promise.all([x.data(), w.data(), dy.data()])) as Float32Array[];
    const dxRef = naiveMatMul(dyv as Float32Array, [40, 12], wv as Float32Array, [16, 12], false, true);
    const dwRef = naiveMatMul(xv as Float32Array, [40, 16], dyv as Float32Array, [40, 12], true, false);
    expectClose(await (dx as tf.Tensor).data(), dxRef.data, 1e-5, 'dx');
    expectClose(await (dw as tf.Tensor).data(), dwRef.data, 1e-5, 'dW');
    tf.dispose([dx, dw]);
    const buffers = tf.memory().numDataBuffers;
    await expectNoLeak(grads);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    tf.dispose([x, w, dy]);
  });
});
