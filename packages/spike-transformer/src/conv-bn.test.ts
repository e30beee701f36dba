import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-support/helpers';
import { ConvBn } from './conv-bn';

/** A ConvBn in eval mode with non-trivial running statistics. */
function convBn(): ConvBn {
  const m = new ConvBn(4, 6, { kernelSize: 3, padding: 1, norm: 'batch', seed: 5 });
  const stats = {
    '1.running_mean': tf.tensor1d([0.5, -0.25, 1, 0, 2, -1]),
    '1.running_var': tf.tensor1d([1, 4, 0.25, 2, 1, 0.5]),
    '1.weight': tf.tensor1d([1, 2, 0.5, -1, 1, 3]),
  };
  m.loadStateDict(stats, { strict: false });
  tf.dispose(Object.values(stats));
  return m.eval();
}

describe('ConvBn in eval mode', () => {
  it('equals conv then norm, and keeps its folded weights from call to call without leaking', async () => {
    const baseline = tf.memory().numTensors;
    const m = convBn();
    const x = tf.randomUniform([2, 6, 6, 4], -1, 1, 'float32', 4);
    const ref = tf.tidy(() => m.norm.apply(m.conv.apply(x)));
    const y = m.forward(x);
    expectClose(await y.data(), await ref.data(), 1e-5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(m.forward(x));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, ref]);
    // changed weights are seen at once
    const w = tf.neg(m.conv.weight);
    m.conv.weight.assign(w);
    w.dispose();
    const flipped = m.forward(x);
    const expected = tf.tidy(() => m.norm.apply(m.conv.apply(x)));
    expectClose(await flipped.data(), await expected.data(), 1e-5);
    tf.dispose([flipped, expected, x]);
    // disposing the module frees the cached weights too
    m.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
