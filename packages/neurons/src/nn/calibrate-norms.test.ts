import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../../test-support/helpers';
import { Module } from '../core/module';
import { FrozenBatchNorm2d } from './batchnorm';
import { calibrateFrozenNorms } from './calibrate-norms';

/** Two frozen norms in a row with a fixed affine map between them. */
class Chain extends Module {
  readonly a = this.child('a', new FrozenBatchNorm2d(2));
  readonly b = this.child('b', new FrozenBatchNorm2d(2));
  forward(x: tf.Tensor): tf.Tensor {
    return this.b.apply(tf.add(tf.mul(this.a.apply(x), 3), 1));
  }
}

describe('calibrateFrozenNorms', () => {
  it('sets each frozen norm to the statistics of its input, layer after layer', async () => {
    const m = new Chain();
    // Channel 0 ~ 5 + 2·N(0,1); channel 1 constant 7.
    const noise = tf.randomNormal([4, 3, 3, 1], 0, 1, 'float32', 1);
    const x = tf.concat([tf.add(tf.mul(noise, 2), 5), tf.fill([4, 3, 3, 1], 7)], 3);
    const xs = await x.data();
    const c0 = Array.from(xs).filter((_, i) => i % 2 === 0);
    const mean0 = c0.reduce((a, b) => a + b, 0) / c0.length;
    const var0 = c0.reduce((a, b) => a + (b - mean0) ** 2, 0) / c0.length;
    const report = await calibrateFrozenNorms(m, () => m.apply(x));
    expect(report.modules).toEqual(['a', 'b']);
    expect(report.passes).toBeGreaterThanOrEqual(2);
    expect(report.lastChange).toBeLessThanOrEqual(0.01);
    const st = m.stateDict();
    expectClose(await (st.get('a.running_mean') as tf.Tensor).data(), [mean0, 7], 1e-4, 'a mean');
    // The constant channel keeps variance 1 (it is only centred).
    expectClose(await (st.get('a.running_var') as tf.Tensor).data(), [var0, 1], 1e-3, 'a var');
    // b's input is 3·a(x) + 1: mean 1, variance 9 (channel 0); constant 1 (channel 1).
    expectClose(await (st.get('b.running_mean') as tf.Tensor).data(), [1, 1], 1e-3, 'b mean');
    expectClose(await (st.get('b.running_var') as tf.Tensor).data(), [9, 1], 1e-2, 'b var');
    // The output is normalized.
    const y = m.apply(x);
    const { mean, variance } = tf.moments(tf.slice(y, [0, 0, 0, 0], [-1, -1, -1, 1]));
    expectClose(
      [(await mean.data())[0] as number, (await variance.data())[0] as number],
      [0, 1],
      1e-3,
      'output',
    );
    tf.dispose([noise, x, y, mean, variance, ...st.values()]);
    m.dispose();
  });

  it('accumulates over every call of a shared module, and leaks nothing', async () => {
    const bn = new FrozenBatchNorm2d(1);
    const a = tf.fill([1, 2, 2, 1], 0);
    const b = tf.fill([1, 2, 2, 1], 4);
    const before = tf.memory().numTensors;
    await calibrateFrozenNorms(bn, () => [bn.apply(a), bn.apply(b)], { maxPasses: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const st = bn.stateDict();
    expectClose(await (st.get('running_mean') as tf.Tensor).data(), [2], 1e-6, 'mean of both calls');
    expectClose(await (st.get('running_var') as tf.Tensor).data(), [4], 1e-5, 'variance of both calls');
    tf.dispose([a, b, ...st.values()]);
    bn.dispose();
    await expect(calibrateFrozenNorms(bn, () => null, { maxPasses: 0 })).rejects.toThrow(/maxPasses/);
  });
});
