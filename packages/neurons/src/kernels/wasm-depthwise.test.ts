import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, testBackend } from '../../../../test-support/helpers';
import { registerWasmDepthwise, setWasmDepthwiseEnabled } from './wasm-depthwise';

/** A deterministic pseudo-random integer in [0, n). */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** `f` with the SIMD kernel on and with the backend's own kernel. */
function bothWays(f: () => tf.Tensor): { simd: tf.Tensor; native: tf.Tensor } {
  const simd = f();
  const was = setWasmDepthwiseEnabled(false);
  try {
    return { simd, native: f() };
  } finally {
    setWasmDepthwiseEnabled(was);
  }
}

/** The depthwise convolution by its definition (float64 sums), with tfjs's output size and padding. */
async function reference(
  x: tf.Tensor4D,
  f: tf.Tensor4D,
  strides: [number, number] | number,
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
  dilations: number = 1,
): Promise<{ shape: number[]; values: number[] }> {
  const info = tf.backend_util.computeConv2DInfo(x.shape, f.shape, strides, dilations, pad, undefined, true);
  const [xs, fs] = [await x.data(), await f.data()];
  const [, H, W, C] = x.shape;
  const M = f.shape[3];
  const values: number[] = [];
  for (let n = 0; n < info.batchSize; n++)
    for (let oh = 0; oh < info.outHeight; oh++)
      for (let ow = 0; ow < info.outWidth; ow++)
        for (let c = 0; c < C; c++)
          for (let m = 0; m < M; m++) {
            let acc = 0;
            for (let i = 0; i < info.filterHeight; i++)
              for (let j = 0; j < info.filterWidth; j++) {
                const h = oh * info.strideHeight + i * info.dilationHeight - info.padInfo.top;
                const w = ow * info.strideWidth + j * info.dilationWidth - info.padInfo.left;
                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                acc += xs[((n * H + h) * W + w) * C + c]! * fs[((i * info.filterWidth + j) * C + c) * M + m]!;
              }
            values.push(acc);
          }
  return { shape: info.outShape, values };
}

describe.skipIf(testBackend() !== 'wasm')('wasm DepthwiseConv2dNative (SIMD)', () => {
  it('is registered by selectBackend, and registering again changes nothing', () => {
    expect(registerWasmDepthwise()).toBe(false);
  });

  it('computes the definition on random shapes, strides and paddings (exactly, on integer data)', async () => {
    const r = rng(5);
    const pads = ['same', 'valid', 0, 1, 2, 'explicit'] as const;
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + r(2);
      const c = 4 * (1 + r(6)) + (trial % 10 === 9 ? 1 + r(3) : 0); // some counts not a multiple of 4
      const k = 1 + r(7);
      const h = k + r(9);
      const w = k + r(9);
      const stride: [number, number] = [1 + r(2), 1 + r(2)];
      const p = pads[r(pads.length)]!;
      const pad =
        p === 'explicit'
          ? ([
              [0, 0],
              [r(3), r(3)],
              [r(3), r(3)],
              [0, 0],
            ] as tf.backend_util.ExplicitPadding)
          : p;
      const x = tf.tensor4d(
        Array.from({ length: n * h * w * c }, () => r(9) - 4),
        [n, h, w, c],
      );
      const f = tf.tensor4d(
        Array.from({ length: k * k * c }, () => r(7) - 3),
        [k, k, c, 1],
      );
      const y = tf.depthwiseConv2d(x, f, stride, pad);
      const want = await reference(x, f, stride, pad);
      const where = `x ${x.shape} k ${k} stride ${stride} pad ${JSON.stringify(pad)}`;
      expect(y.shape, where).toEqual(want.shape);
      expect(Array.from(await y.data()), where).toEqual(want.values);
      tf.dispose([x, f, y]);
    }
  });

  it("agrees with the backend's kernel to float32 rounding on real-valued data", async () => {
    const x = tf.randomNormal<tf.Rank.R4>([1, 20, 20, 24], 0, 1, 'float32', 1);
    const f = tf.randomNormal<tf.Rank.R4>([7, 7, 24, 1], 0, 0.2, 'float32', 2);
    const { simd, native } = bothWays(() => tf.depthwiseConv2d(x, f, 1, 'same'));
    const a = await simd.data();
    const b = await native.data();
    let worst = 0;
    for (let i = 0; i < a.length; i++)
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([x, f, simd, native]);
  });

  it('leaves channel multipliers and dilation to the backend', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 9 * 9 * 8 }, (_, i) => (i % 7) - 3),
      [1, 9, 9, 8],
    );
    const m2 = tf.tensor4d(
      Array.from({ length: 3 * 3 * 8 * 2 }, (_, i) => (i % 5) - 2),
      [3, 3, 8, 2],
    );
    const f = tf.tensor4d(
      Array.from({ length: 3 * 3 * 8 }, (_, i) => (i % 3) - 1),
      [3, 3, 8, 1],
    );
    for (const [filter, dilation] of [
      [m2, 1],
      [f, 2],
    ] as const) {
      const y = tf.depthwiseConv2d(x, filter, 1, 'same', 'NHWC', dilation);
      const want = await reference(x, filter, 1, 'same', dilation);
      expect(Array.from(await y.data())).toEqual(want.values);
      y.dispose();
    }
    tf.dispose([x, m2, f]);
  });

  it('gradients through it match the backend kernel, and repeated calls leave nothing behind', async () => {
    const x = tf.randomNormal<tf.Rank.R4>([2, 8, 8, 8], 0, 1, 'float32', 6);
    const f = tf.randomNormal<tf.Rank.R4>([5, 5, 8, 1], 0, 1, 'float32', 7);
    const grads = () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))),
      )([x, f]);
    const simd = grads();
    const was = setWasmDepthwiseEnabled(false);
    const native = grads();
    setWasmDepthwiseEnabled(was);
    for (let i = 0; i < 2; i++) {
      const a = await simd[i]!.data();
      const b = await native[i]!.data();
      for (let j = 0; j < a.length; j++)
        expect(Math.abs(a[j]! - b[j]!)).toBeLessThan(1e-3 * (1 + Math.abs(b[j]!)));
    }
    tf.dispose([...simd, ...native]);
    const buffers = tf.memory().numDataBuffers;
    await expectNoLeak(() => tf.depthwiseConv2d(x, f, 1, 'same'));
    await expectNoLeak(grads);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    tf.dispose([x, f]);
  });
});
