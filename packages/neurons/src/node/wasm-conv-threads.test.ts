import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, testBackend } from '../../../../test-support/helpers';
import { disableWasmConvThreads, enableWasmConvThreads, wasmConvThreadsEnabled } from './wasm-conv-threads';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
}

/** Shapes that exercise both ways of splitting, padding at the split and at the edges. */
const CASES: Case[] = [
  { x: [1, 16, 16, 96], f: [1, 1, 96, 64], strides: 1, pad: 'valid' },
  { x: [1, 17, 15, 24], f: [3, 3, 24, 40], strides: 1, pad: 'same' },
  { x: [1, 20, 18, 16], f: [3, 3, 16, 32], strides: 2, pad: 'same' },
  { x: [1, 33, 30, 8], f: [7, 7, 8, 16], strides: 2, pad: 3 },
  { x: [1, 19, 19, 12], f: [3, 3, 12, 20], strides: 1, pad: 'valid', dilations: 2 },
  {
    x: [1, 21, 14, 10],
    f: [3, 2, 10, 12],
    strides: 3,
    pad: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  },
  { x: [3, 12, 12, 32], f: [1, 1, 32, 48], strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 16], f: [3, 3, 16, 16], strides: 2, pad: 'same' },
];

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

describe.skipIf(testBackend() !== 'wasm')('wasm Conv2D on two threads', () => {
  beforeAll(async () => {
    // every convolution of the cases is split (minFlops 0)
    expect(await enableWasmConvThreads({ minFlops: 0 })).toBe(true);
  });
  afterAll(async () => {
    await disableWasmConvThreads();
  });

  it('is on, once', async () => {
    expect(wasmConvThreadsEnabled()).toBe(true);
    expect(await enableWasmConvThreads()).toBe(false);
  });

  it.each(CASES.map((c, i) => [i, c] as const))('case %i equals the one-thread kernel', async (i, c) => {
    const x = randomTensor(c.x, 10 + i) as tf.Tensor4D;
    const f = randomTensor(c.f, 50 + i) as tf.Tensor4D;
    const conv = () => tf.conv2d(x, f, c.strides, c.pad as 'same', 'NHWC', c.dilations ?? 1);
    const split = conv();
    // the same filter again: the worker answers from its cache
    const again = conv();
    await disableWasmConvThreads();
    const single = conv();
    await enableWasmConvThreads({ minFlops: 0 });
    expect(split.shape).toEqual(single.shape);
    const [a, b, s] = await Promise.all([split.data(), again.data(), single.data()]);
    expect(Array.from(a)).toEqual(Array.from(s));
    expect(Array.from(b)).toEqual(Array.from(s));
    tf.dispose([x, f, split, again, single]);
  });

  it('keeps small convolutions on one thread by default, and leaks nothing', async () => {
    await disableWasmConvThreads();
    expect(await enableWasmConvThreads()).toBe(true);
    const x = randomTensor([1, 32, 32, 64], 1) as tf.Tensor4D;
    const f = randomTensor([3, 3, 64, 64], 2) as tf.Tensor4D;
    const small = randomTensor([1, 4, 4, 8], 3) as tf.Tensor4D;
    const fs = randomTensor([1, 1, 8, 8], 4) as tf.Tensor4D;
    await expectNoLeak(async () => {
      const y = tf.conv2d(x, f, 1, 'same');
      const z = tf.conv2d(small, fs, 1, 'valid');
      await Promise.all([y.data(), z.data()]);
      tf.dispose([y, z]);
    });
    tf.dispose([x, f, small, fs]);
    await disableWasmConvThreads();
    await enableWasmConvThreads({ minFlops: 0 });
  });

  it('gives the same gradients through the split forward pass', async () => {
    const x = randomTensor([1, 10, 10, 8], 7) as tf.Tensor4D;
    const f = randomTensor([3, 3, 8, 8], 8) as tf.Tensor4D;
    const grads = () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))),
      )([x, f]);
    const split = grads();
    await disableWasmConvThreads();
    const single = grads();
    await enableWasmConvThreads({ minFlops: 0 });
    for (let k = 0; k < 2; k++) {
      expect(Array.from(await split[k]!.data())).toEqual(Array.from(await single[k]!.data()));
    }
    tf.dispose([x, f, ...split, ...single]);
  });
});
