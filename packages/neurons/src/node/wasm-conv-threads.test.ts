import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, testBackend } from '../../../../test-support/helpers';
import {
  disableWasmConvThreads,
  enableWasmConvThreads,
  wasmConvThreadsEnabled,
  wasmConvThreadsStats,
} from './wasm-conv-threads';
import { wasmBackendThreads } from './wasm-threads';

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

// with XNNPACK's own threads (SPIKETRACK_WASM_THREADS) the worker does not start
describe.skipIf(testBackend() !== 'wasm' || wasmBackendThreads() > 1)('wasm Conv2D on two threads', () => {
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
    expect(wasmConvThreadsStats()).not.toBeNull();
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

  it.each([
    { a: [64, 48], b: [48, 40], transposeB: false },
    { a: [33, 20], b: [56, 20], transposeB: true },
    { a: [1, 7, 30], b: [1, 30, 9], transposeB: false },
    { a: [5, 16], b: [3, 16, 8], transposeB: false },
    { a: [4, 6, 16], b: [4, 16, 8], transposeB: false },
  ])('a matrix product $a × $b equals the one-thread kernel', async (c) => {
    const a = randomTensor(c.a, 3);
    const b = randomTensor(c.b, 4);
    const product = () => tf.matMul(a, b, false, c.transposeB);
    const split = product();
    // the same right operand again: the worker answers from its cache
    const again = product();
    // a transposed left operand stays on this thread
    const at = tf.transpose(a, [...Array(a.rank - 2).keys(), a.rank - 1, a.rank - 2]);
    const productT = () => tf.matMul(at, b, true, c.transposeB);
    const aT = productT();
    await disableWasmConvThreads();
    const single = product();
    const singleT = productT();
    await enableWasmConvThreads({ minFlops: 0 });
    expect(split.shape).toEqual(single.shape);
    const [x, y, s] = await Promise.all([split.data(), again.data(), single.data()]);
    expect(Array.from(x)).toEqual(Array.from(s));
    expect(Array.from(y)).toEqual(Array.from(s));
    expect(Array.from(await aT.data())).toEqual(Array.from(await singleT.data()));
    tf.dispose([a, b, split, again, at, aT, single, singleT]);
  });

  it("takes a 1×1 filter that is also used, reshaped, as a product's right operand", async () => {
    // tf.reshape shares the data: the worker holds it under the shape it was first sent with
    const f = randomTensor([1, 1, 24, 40], 90) as tf.Tensor4D;
    const x = randomTensor([1, 8, 8, 24], 91) as tf.Tensor4D;
    const a = randomTensor([64, 24], 92);
    // the worker caches the data on its second sighting (the convolution, as a filter); the next
    // product takes it as a matrix
    const run = () => [tf.matMul(a, tf.reshape(f, [24, 40])), tf.conv2d(x, f, 1, 'valid')];
    const split = [...run(), ...run()];
    await disableWasmConvThreads();
    const single = run();
    await enableWasmConvThreads({ minFlops: 0 });
    for (let i = 0; i < 4; i++) {
      expect(Array.from(await split[i]!.data())).toEqual(Array.from(await single[i % 2]!.data()));
    }
    tf.dispose([f, x, a, ...split, ...single]);
  });

  it('caches a filter from its second use on, and never one used once', async () => {
    const x = randomTensor([1, 12, 12, 16], 93) as tf.Tensor4D;
    const bytes = 3 * 3 * 16 * 24 * 4;
    const before = wasmConvThreadsStats()!;
    // a new filter each call, as in training: sent with its part every time, never kept
    for (let i = 0; i < 4; i++) {
      const f = randomTensor([3, 3, 16, 24], 100 + i) as tf.Tensor4D;
      tf.dispose([tf.conv2d(x, f, 1, 'same'), f]);
    }
    const fresh = wasmConvThreadsStats()!;
    expect(fresh.splitKernels - before.splitKernels).toBe(4);
    expect(fresh.cachedFilters).toBe(before.cachedFilters);
    expect(fresh.filterBytesSent - before.filterBytesSent).toBe(4 * bytes);
    // the same filter five times, as in inference: sent twice, then kept
    const f = randomTensor([3, 3, 16, 24], 110) as tf.Tensor4D;
    for (let i = 0; i < 5; i++) tf.conv2d(x, f, 1, 'same').dispose();
    const same = wasmConvThreadsStats()!;
    expect(same.splitKernels - fresh.splitKernels).toBe(5);
    expect(same.cachedFilters).toBe(fresh.cachedFilters + 1);
    expect(same.cachedFilterBytes - fresh.cachedFilterBytes).toBe(bytes);
    expect(same.filterBytesSent - fresh.filterBytesSent).toBe(2 * bytes);
    tf.dispose([x, f]);
  });

  it('keeps small convolutions on one thread by default, and leaks nothing', async () => {
    await disableWasmConvThreads();
    expect(wasmConvThreadsStats()).toBeNull();
    expect(await enableWasmConvThreads()).toBe(true);
    const x = randomTensor([1, 32, 32, 64], 1) as tf.Tensor4D;
    const f = randomTensor([3, 3, 64, 64], 2) as tf.Tensor4D;
    const small = randomTensor([1, 4, 4, 8], 3) as tf.Tensor4D;
    const fs = randomTensor([1, 1, 8, 8], 4) as tf.Tensor4D;
    const a = randomTensor([256, 256], 5);
    const b = randomTensor([256, 512], 6);
    await expectNoLeak(async () => {
      const y = tf.conv2d(x, f, 1, 'same');
      const z = tf.conv2d(small, fs, 1, 'valid');
      const p = tf.matMul(a, b);
      await Promise.all([y.data(), z.data(), p.data()]);
      tf.dispose([y, z, p]);
    });
    tf.dispose([x, f, small, fs, a, b]);
    await disableWasmConvThreads();
    await enableWasmConvThreads({ minFlops: 0 });
  });

  it('grows its shared buffers for parts larger than any before, and goes on with small ones', async () => {
    // halves of 2^16 floats and more, past the shared buffers' first size, then small ones again
    const shapes: [number[], number[]][] = [
      [
        [1, 8, 8, 4],
        [3, 3, 4, 4],
      ],
      [
        [1, 96, 96, 24],
        [3, 3, 24, 40],
      ],
      [
        [1, 150, 130, 8],
        [3, 3, 8, 8],
      ],
      [
        [1, 6, 6, 4],
        [1, 1, 4, 8],
      ],
    ];
    const xs = shapes.map(([xs], i) => randomTensor(xs, 70 + i) as tf.Tensor4D);
    const fs = shapes.map(([, fs], i) => randomTensor(fs, 80 + i) as tf.Tensor4D);
    const split = xs.map((x, i) => tf.conv2d(x, fs[i]!, 1, 'same'));
    await disableWasmConvThreads();
    const single = xs.map((x, i) => tf.conv2d(x, fs[i]!, 1, 'same'));
    await enableWasmConvThreads({ minFlops: 0 });
    for (let i = 0; i < shapes.length; i++) {
      expect(Array.from(await split[i]!.data())).toEqual(Array.from(await single[i]!.data()));
    }
    tf.dispose([...xs, ...fs, ...split, ...single]);
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
