import { ConfigError, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../test-support/helpers';
import { expectParamGrads, expectStateShapes, referenceShapes } from './blocks.test-helper';
import { randomizeParams } from './fixtures.test-helper';
import { SpikingTransformerBlock } from './transformer-block';

// Bit-exactness with the reference is tested on the whole tiny backbone (backbone.test.ts).
describe('SpikingTransformerBlock', () => {
  it('has the keys and torch shapes of the reference block3.0 (dim 96) and block4.1 (dim 128)', () => {
    for (const [dim, prefix] of [
      [96, 'encoder.block3.0.'],
      [128, 'encoder.block4.1.'],
    ] as const) {
      const m = new SpikingTransformerBlock({ dim });
      expectStateShapes(m, referenceShapes(prefix));
      m.dispose();
    }
  });

  it('is x + conv, + attn(·, branch), + mlp', async () => {
    const m = new SpikingTransformerBlock({ dim: 4, numHeads: 2, gridSize: 2 });
    await randomizeParams(m, 9);
    const x = tf.randomUniform([3, 1, 2, 2, 4], 0, 3, 'float32', 1);
    for (const branch of ['template', 'search'] as const) {
      const y = m.apply(x, branch);
      const want = tf.tidy(() => {
        const a = tf.add(x, m.conv.apply(x));
        const b = tf.add(a, m.attn.apply(a, branch));
        return tf.add(b, m.mlp.apply(b));
      });
      expect(Array.from(await y.data())).toEqual(Array.from(await want.data()));
      tf.dispose([y, want]);
    }
    x.dispose();
    m.dispose();
  });

  it('passes gradients to every trainable parameter without leaking', async () => {
    const m = new SpikingTransformerBlock({ dim: 8, numHeads: 2, gridSize: 3 });
    await randomizeParams(m, 4, 2);
    const x = tf.randomUniform([1, 2, 3, 3, 8], 0, 3, 'float32', 2);
    const r = tf.randomNormal(x.shape, 0, 1, 'float32', 3);
    const loss = () => tf.sum(tf.mul(m.apply(x, 'search'), r)) as tf.Scalar;
    // the search branch (T = 1) uses neither the template embeddings nor any decay
    await expectParamGrads(m, loss, /t_pos_embeds|decay$/);
    await expectNoLeak(() => tf.variableGrads(loss, [...m.trainableParameters().values()]), 2);
    tf.dispose([x, r]);
    m.dispose();
  });

  it('checks its options and input', () => {
    expect(() => new SpikingTransformerBlock({ dim: 6, numHeads: 4 })).toThrow(ConfigError);
    const m = new SpikingTransformerBlock({ dim: 4, numHeads: 2, gridSize: 2 });
    const x = tf.zeros([1, 1, 2, 2, 4]);
    expect(() => m.apply(x, 'both' as never)).toThrow(/branch must be 'search' or 'template'/);
    const bad = tf.zeros([1, 1, 2, 2, 3]);
    expect(() => m.apply(bad, 'search')).toThrow(ShapeError);
    tf.dispose([x, bad]);
    m.dispose();
  });
});
