import { ConfigError, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../test-support/helpers';
import { expectParamGrads, expectStateShapes, referenceShapes } from './blocks.test-helper';
import { SpikingDownsample } from './downsample';
import { randomizeParams } from './fixtures.test-helper';

// Bit-exactness with the reference is tested on the whole tiny backbone (backbone.test.ts).
describe('SpikingDownsample', () => {
  it('has the keys and torch shapes of the reference stem (no neuron) and downsample2', () => {
    const stem = new SpikingDownsample({
      inChannels: 3,
      outChannels: 12,
      kernelSize: 7,
      padding: 3,
      firstLayer: true,
    });
    expectStateShapes(stem, referenceShapes('encoder.downsample1_1.'));
    expect(stem.encode_spike).toBeNull();
    const d2 = new SpikingDownsample({ inChannels: 24, outChannels: 48 });
    expectStateShapes(d2, referenceShapes('encoder.downsample2.'));
    stem.dispose();
    d2.dispose();
  });

  it('halves the resolution with stride 2 and keeps it with stride 1', () => {
    const a = new SpikingDownsample({
      inChannels: 3,
      outChannels: 4,
      kernelSize: 7,
      padding: 3,
      firstLayer: true,
    });
    const b = new SpikingDownsample({ inChannels: 4, outChannels: 6, stride: 1 });
    const x = tf.randomNormal([2, 1, 9, 8, 3], 0, 1, 'float32', 1);
    const y = a.apply(x);
    expect(y.shape).toEqual([2, 1, 5, 4, 4]);
    const z = b.apply(y);
    expect(z.shape).toEqual([2, 1, 5, 4, 6]);
    tf.dispose([x, y, z]);
    a.dispose();
    b.dispose();
  });

  it('the first layer sees analog input, the others spike first', async () => {
    const first = new SpikingDownsample({
      inChannels: 1,
      outChannels: 1,
      kernelSize: 1,
      padding: 0,
      stride: 1,
      firstLayer: true,
    });
    const other = new SpikingDownsample({
      inChannels: 1,
      outChannels: 1,
      kernelSize: 1,
      padding: 0,
      stride: 1,
    });
    const w = new Map([
      ['encode_conv.weight', tf.ones([1, 1, 1, 1])],
      ['encode_conv.bias', tf.zeros([1])],
      // fl32(1 − 1e-5) + 1e-5 is exactly 1 in float32: the BN is the identity
      ['encode_bn.running_var', tf.fill([1], 1 - 1e-5)],
    ]);
    first.loadStateDict(w, { strict: false });
    other.loadStateDict(w, { strict: false });
    for (const t of w.values()) t.dispose();
    first.eval();
    other.eval();
    const x = tf.tensor([0.3, 1.7, 5], [1, 1, 1, 3, 1]);
    const a = first.apply(x);
    const b = other.apply(x);
    expect(Array.from(await a.data())).toEqual([Math.fround(0.3), Math.fround(1.7), 5]);
    expect(Array.from(await b.data())).toEqual([0, 0.5, 1]); // round(clamp(x, 0, 4)) / 4
    tf.dispose([x, a, b]);
    first.dispose();
    other.dispose();
  });

  it('passes gradients to every trainable parameter without leaking', async () => {
    const m = new SpikingDownsample({ inChannels: 3, outChannels: 4 });
    await randomizeParams(m, 2);
    const x = tf.randomUniform([2, 1, 4, 4, 3], 0, 3, 'float32', 2);
    const r = tf.randomNormal([2, 1, 2, 2, 4], 0, 1, 'float32', 3);
    const loss = () => tf.sum(tf.mul(m.apply(x), r)) as tf.Scalar;
    await expectParamGrads(m, loss);
    await expectNoLeak(() => tf.variableGrads(loss, [...m.trainableParameters().values()]), 2);
    tf.dispose([x, r]);
    m.dispose();
  });

  it('checks its options and input', () => {
    expect(() => new SpikingDownsample({ inChannels: 0, outChannels: 4 })).toThrow(ConfigError);
    expect(
      () => new SpikingDownsample({ inChannels: 2, outChannels: 4, firstLayer: 'yes' as never }),
    ).toThrow(ConfigError);
    const m = new SpikingDownsample({ inChannels: 2, outChannels: 4 });
    const bad = tf.zeros([1, 4, 4, 2]);
    expect(() => m.apply(bad)).toThrow(ShapeError);
    bad.dispose();
    m.dispose();
  });
});
