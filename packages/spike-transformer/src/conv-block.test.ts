import { ConfigError, FrozenBatchNorm2d, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../test-support/helpers';
import { expectParamGrads, expectStateShapes, referenceShapes } from './blocks.test-helper';
import { SpikingConvBlock } from './conv-block';
import { randomizeParams } from './fixtures.test-helper';

// Bit-exactness with the reference is tested on the whole tiny backbone (backbone.test.ts).
describe('SpikingConvBlock', () => {
  it('has the keys and torch shapes of the reference ConvBlock1_1.0 (dim 12) and ConvBlock2_1.0 (dim 48)', () => {
    for (const [dim, prefix] of [
      [12, 'encoder.ConvBlock1_1.0.'],
      [48, 'encoder.ConvBlock2_1.0.'],
    ] as const) {
      const m = new SpikingConvBlock({ dim });
      expectStateShapes(m, referenceShapes(prefix));
      expect(m.bn1).toBeInstanceOf(FrozenBatchNorm2d);
      m.dispose();
    }
  });

  it('is x + SepConv(x) followed by a residual two-conv branch', async () => {
    const m = new SpikingConvBlock({ dim: 4, mlpRatio: 2 });
    // Zero the last BN's scale and shift: the second branch vanishes and the block is x + SepConv(x).
    m.loadStateDict(new Map([['bn2.weight', tf.zeros([4])]]), { strict: false });
    await randomizeParams(m.Conv, 3);
    m.eval();
    const x = tf.randomUniform([2, 1, 5, 5, 4], 0, 3, 'float32', 1);
    const y = m.apply(x);
    const want = tf.tidy(() => tf.add(x, m.Conv.apply(x)));
    expect(Array.from(await y.data())).toEqual(Array.from(await want.data()));
    tf.dispose([x, y, want]);
    m.dispose();
  });

  it('passes gradients to every trainable parameter without leaking', async () => {
    const m = new SpikingConvBlock({ dim: 4 });
    await randomizeParams(m, 5);
    const x = tf.randomUniform([2, 1, 4, 4, 4], 0, 3, 'float32', 2);
    const r = tf.randomNormal([2, 1, 4, 4, 4], 0, 1, 'float32', 3);
    const loss = () => tf.sum(tf.mul(m.apply(x), r)) as tf.Scalar;
    await expectParamGrads(m, loss);
    await expectNoLeak(() => tf.variableGrads(loss, [...m.trainableParameters().values()]), 2);
    tf.dispose([x, r]);
    m.dispose();
  });

  it('checks its options and input', () => {
    expect(() => new SpikingConvBlock({ dim: 3, mlpRatio: 0.5 })).toThrow(ConfigError);
    const m = new SpikingConvBlock({ dim: 4 });
    const bad = tf.zeros([1, 1, 4, 4, 5]);
    expect(() => m.apply(bad)).toThrow(ShapeError);
    expect(() => m.apply(bad)).toThrow(/SpikingConvBlock: expected input of shape \[T, B, H, W, 4\]/);
    bad.dispose();
    m.dispose();
  });
});
