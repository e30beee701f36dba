import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BatchNorm2d, foldBatchNorm } from './batchnorm';
import { Conv2d } from './conv';
import { FoldedWeightsCache } from './folded-weights-cache';

/** A conv and an eval-mode BatchNorm with non-trivial statistics. */
function layers() {
  const conv = new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, seed: 3 });
  const bn = new BatchNorm2d(6);
  const stats = {
    running_mean: tf.tensor1d([0.5, -0.25, 1, 0, 2, -1]),
    running_var: tf.tensor1d([1, 4, 0.25, 2, 1, 0.5]),
    weight: tf.tensor1d([1, 2, 0.5, -1, 1, 3]),
    bias: tf.tensor1d([0, 1, -1, 0.5, 0, 2]),
  };
  bn.loadStateDict(stats, { strict: false });
  tf.dispose(Object.values(stats));
  bn.eval();
  return { conv, bn };
}

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

describe('FoldedWeightsCache', () => {
  it('returns the folded weights, the same tensors while nothing changes', async () => {
    const { conv, bn } = layers();
    const cache = new FoldedWeightsCache();
    const a = tf.tidy(() => ({ ...cache.get(conv, bn) }));
    const b = tf.tidy(() => ({ ...cache.get(conv, bn) }));
    expect(b.weight).toBe(a.weight);
    expect(b.bias).toBe(a.bias);
    expect(a.weight.isDisposed).toBe(false);
    const fresh = foldBatchNorm(conv, bn);
    expect(await values(a.weight)).toEqual(await values(fresh.weight));
    expect(await values(a.bias)).toEqual(await values(fresh.bias));
    tf.dispose([fresh.weight, fresh.bias]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => ({ ...cache.get(conv, bn) }));
    expect(tf.memory().numTensors).toBe(before);
    cache.clear();
    expect(a.weight.isDisposed).toBe(true);
    conv.dispose();
    bn.dispose();
  });

  it('folds again when the weights or the statistics change', async () => {
    const { conv, bn } = layers();
    const cache = new FoldedWeightsCache();
    const first = cache.get(conv, bn);
    const w = tf.mul(conv.weight, 2);
    conv.weight.assign(w);
    w.dispose();
    const second = cache.get(conv, bn);
    expect(second.weight).not.toBe(first.weight);
    expect(first.weight.isDisposed).toBe(true);
    const expected = foldBatchNorm(conv, bn);
    expect(await values(second.weight)).toEqual(await values(expected.weight));
    tf.dispose([expected.weight, expected.bias]);
    const mean = tf.tensor1d([0, 0, 0, 0, 0, 0]);
    bn.loadStateDict({ running_mean: mean }, { strict: false });
    mean.dispose();
    const third = cache.get(conv, bn);
    expect(third.bias).not.toBe(second.bias);
    const again = foldBatchNorm(conv, bn);
    expect(await values(third.bias)).toEqual(await values(again.bias));
    tf.dispose([again.weight, again.bias]);
    cache.clear();
    conv.dispose();
    bn.dispose();
  });

  it('folds per call under a gradient tape, so that gradients reach the weights', async () => {
    const { conv, bn } = layers();
    const cache = new FoldedWeightsCache();
    const cached = cache.get(conv, bn);
    const x = tf.randomUniform([1, 5, 5, 4], -1, 1, 'float32', 9);
    const { value, grads } = tf.variableGrads(() => {
      const { weight } = cache.get(conv, bn);
      expect(weight).not.toBe(cached.weight);
      return tf.sum(tf.conv2d(x as tf.Tensor4D, weight as tf.Tensor4D, 1, 'same'));
    }, [conv.weight]);
    const g = grads[conv.weight.name] as tf.Tensor;
    expect(g).toBeDefined();
    expect((await values(g)).some((v) => v !== 0)).toBe(true);
    // the cached entry is still the one from before the tape
    expect(cache.get(conv, bn).weight).toBe(cached.weight);
    tf.dispose([x, value, ...Object.values(grads)]);
    cache.clear();
    conv.dispose();
    bn.dispose();
  });
});
