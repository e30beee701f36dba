import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, testBackend } from '../../../../test-support/helpers';
import { registerWasmIdentity } from './wasm-identity';

type RefCounting = tf.KernelBackend & { refCount(dataId: tf.DataId): number };

describe.skipIf(testBackend() !== 'wasm')('wasm Identity (zero-copy)', () => {
  it('is registered by selectBackend, and registering again changes nothing', () => {
    expect(registerWasmIdentity()).toBe(false);
  });

  it('tf.clone shares the buffer, and each tensor keeps it alive', async () => {
    const backend = tf.backend() as RefCounting;
    const x = tf.tensor([1.5, -2, 3.25, 0], [2, 2]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(backend.refCount(x.dataId)).toBe(2);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    expect(y.shape).toEqual([2, 2]);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1.5, -2, 3.25, 0]);
    expect(backend.refCount(y.dataId)).toBe(1);
    const dataId = y.dataId;
    y.dispose();
    expect(backend.refCount(dataId)).toBe(0);
  });

  it('gradients through the tape (which clones what it saves) are unchanged, with no tensor left behind', async () => {
    const xs = [0.3, -1.2, 2.5, 0.9];
    const x = tf.tensor(xs);
    // f = Σ x² · sin(x), f' = 2x·sin(x) + x²·cos(x)
    const grad = () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.square(a), tf.sin(a))))(x);
    const g = grad();
    expectClose(
      await g.data(),
      xs.map((v) => 2 * v * Math.sin(v) + v * v * Math.cos(v)),
      1e-5,
      'df/dx',
    );
    g.dispose();
    const buffers = tf.memory().numDataBuffers;
    await expectNoLeak(grad);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
  });

  it('a variable assigned from a clone keeps its value when the source is disposed', async () => {
    const v = tf.variable(tf.zeros([3]));
    const src = tf.tensor([4, 5, 6]);
    v.assign(tf.clone(src));
    src.dispose();
    expect(Array.from(await v.data())).toEqual([4, 5, 6]);
    v.dispose();
  });
});
