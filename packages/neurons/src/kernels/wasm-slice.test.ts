import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, testBackend } from '../../../../test-support/helpers';
import { copyBox, registerWasmSlice } from './wasm-slice';

/** A deterministic pseudo-random integer in [0, n). */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** The box `begin` + `size` of a row-major array, element by element. */
function referenceBox(values: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));
  const total = size.reduce((p, d) => p * d, 1);
  for (let i = 0; i < total; i++) {
    let rest = i;
    let o = 0;
    for (let a = shape.length - 1; a >= 0; a--) {
      const idx = rest % size[a]!;
      rest = Math.floor(rest / size[a]!);
      o += (begin[a]! + idx) * strides[a]!;
    }
    out.push(values[o] as number);
  }
  return out;
}

describe('copyBox', () => {
  it('copies every box of random shapes, in runs or element by element', () => {
    const r = rng(7);
    for (let trial = 0; trial < 300; trial++) {
      const rank = 1 + r(5);
      const shape = Array.from({ length: rank }, () => 1 + r(5));
      const begin = shape.map((d) => r(d));
      const size = shape.map((d, a) => r(d - begin[a]! + 1));
      const n = shape.reduce((p, d) => p * d, 1);
      const src = Float32Array.from({ length: n }, (_, i) => i + 0.5);
      const dst = new Float32Array(size.reduce((p, d) => p * d, 1));
      copyBox(src, shape, begin, size, dst);
      expect(Array.from(dst)).toEqual(referenceBox(src, shape, begin, size));
    }
  });
});

describe.skipIf(testBackend() !== 'wasm')('wasm Slice and Unpack (in-place reads)', () => {
  it('are registered by selectBackend, and registering again changes nothing', () => {
    expect(registerWasmSlice()).toBe(false);
  });

  it('tf.slice gives the reference values on random shapes, for float32, int32 and bool', async () => {
    const r = rng(3);
    for (let trial = 0; trial < 120; trial++) {
      const rank = 1 + r(6);
      const shape = Array.from({ length: rank }, () => 1 + r(6));
      const begin = shape.map((d) => r(d));
      const size = shape.map((d, a) => (r(4) === 0 ? -1 : r(d - begin[a]! + 1)));
      const full = size.map((s, a) => (s === -1 ? shape[a]! - begin[a]! : s));
      const n = shape.reduce((p, d) => p * d, 1);
      const values = Array.from({ length: n }, () => r(1000) - 500);
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const src =
          dtype === 'bool'
            ? values.map((v) => (v > 0 ? 1 : 0))
            : dtype === 'int32'
              ? values
              : values.map((v) => v / 4);
        const x = tf.tensor(src, shape, dtype);
        const y = tf.slice(x, begin, size);
        expect(y.shape).toEqual(full);
        expect(y.dtype).toBe(dtype);
        expect(Array.from(await y.data())).toEqual(referenceBox(src, shape, begin, full));
        tf.dispose([x, y]);
      }
    }
  });

  it('tf.unstack along every axis gives the reference slices', async () => {
    const r = rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const rank = 1 + r(5);
      const shape = Array.from({ length: rank }, () => 1 + r(4));
      const axis = r(rank) - (r(2) === 0 ? rank : 0);
      const a = axis < 0 ? axis + rank : axis;
      const n = shape.reduce((p, d) => p * d, 1);
      const src = Array.from({ length: n }, (_, i) => i * 0.25 - 3);
      const x = tf.tensor(src, shape);
      const parts = tf.unstack(x, axis);
      expect(parts.length).toBe(shape[a]);
      for (const [i, p] of parts.entries()) {
        expect(p.shape).toEqual(shape.filter((_, k) => k !== a));
        const begin = shape.map((_, k) => (k === a ? i : 0));
        const size = shape.map((d, k) => (k === a ? 1 : d));
        expect(Array.from(await p.data())).toEqual(referenceBox(src, shape, begin, size));
      }
      tf.dispose([x, ...parts]);
    }
  });

  it('handles empty slices and string tensors, and a slice as large as a big input', async () => {
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const e = tf.slice(x, [1, 0], [0, 3]);
    expect(e.shape).toEqual([0, 3]);
    expect(Array.from(await e.data())).toEqual([]);
    const s = tf.tensor(['a', 'b', 'c', 'd'], [2, 2]);
    const ss = tf.slice(s, [1, 0], [1, 2]);
    expect(await ss.data()).toEqual(['c', 'd']);
    const su = tf.unstack(s, 1);
    expect(await Promise.all(su.map((t) => t.data()))).toEqual([
      ['a', 'c'],
      ['b', 'd'],
    ]);
    // a large output may grow the wasm heap while the input is being viewed
    const big = tf.tidy(() => tf.reshape(tf.range(0, 4 * 2 ** 20, 1, 'float32'), [4, 2 ** 20]));
    const parts = tf.unstack(big, 0);
    const tail = await parts[3]!.data();
    expect([tail[0], tail[2 ** 20 - 1]]).toEqual([3 * 2 ** 20, 4 * 2 ** 20 - 1]);
    tf.dispose([x, e, s, ss, ...su, big, ...parts]);
  });

  it('gradients through slice and unstack are unchanged, and repeated calls leave nothing behind', async () => {
    const x = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    // d/dx Σ (slice(x)² + 3·unstack(x, 2)[1]) = 2x on the slice, + 3 where the last index is 1
    const f = (a: tf.Tensor) =>
      tf.add(tf.sum(tf.square(tf.slice(a, [0, 1, 0], [2, 1, 2]))), tf.mul(3, tf.sum(tf.unstack(a, 2)[1]!)));
    const g = tf.grad(f)(x);
    expect(Array.from(await g.data())).toEqual([0, 3, 6, 11, 0, 3, 14, 19]);
    g.dispose();
    const buffers = tf.memory().numDataBuffers;
    await expectNoLeak(() => tf.grad(f)(x));
    await expectNoLeak(() => tf.tidy(() => tf.unstack(tf.slice(x, [0, 0, 1], [-1, -1, 1]), 1)));
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
  });
});
