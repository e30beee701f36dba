import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { collapseSpikes, expandSpikes } from './expand';
import { niLif } from './ni-lif';

describe('spike expansion (integer counts ↔ binary sub-steps)', () => {
  it('sets the first c of D sub-steps, and collapses back by summing', async () => {
    const c = tf.tensor1d([0, 1, 2, 3, 4]);
    const b = expandSpikes(c, 4);
    expect(b.shape).toEqual([4, 5]);
    expect(await b.array()).toEqual([
      [0, 1, 1, 1, 1],
      [0, 0, 1, 1, 1],
      [0, 0, 0, 1, 1],
      [0, 0, 0, 0, 1],
    ]);
    const back = collapseSpikes(b);
    expect(Array.from(await back.data())).toEqual([0, 1, 2, 3, 4]);
    // Integer dtype, float noise, and saturation outside [0, D].
    const ci = tf.tensor1d([2, 5, -1], 'int32');
    expect(await expandSpikes(ci, 2).array()).toEqual([
      [1, 1, 0],
      [1, 1, 0],
    ]);
    const cn = tf.tensor1d([2.9999998, 1.0000001]);
    expect(Array.from(await collapseSpikes(expandSpikes(cn, 4)).data())).toEqual([3, 1]);
    tf.dispose([c, b, back, ci, cn]);
  });

  it('conv over integer spikes equals the sum of convs over the binary sub-steps (bit-exact)', async () => {
    const D = 4;
    const [N, H, W, C, O] = onWebGPU() ? [1, 5, 5, 2, 3] : [2, 7, 6, 3, 4];
    // NI-LIF spikes (normalized), turned into integer counts with its spikeCountScale D.
    const pre = tf.tensor(
      Array.from({ length: 2 * N * H * W * C }, (_, i) => ((i * 37) % 23) / 4 - 0.75),
      [2, N, H, W, C],
    );
    const s = niLif(pre, tf.zeros([3]));
    const counts = tf.mul(tf.reshape(tf.slice(s, [1], [1]), [N, H, W, C]), D);
    const cv = await counts.data();
    expect(new Set(cv).size).toBeGreaterThan(3); // several count levels occur
    // Small integer weights: every partial sum is an exact integer.
    const w = tf.tensor(
      Array.from({ length: 3 * 3 * C * O }, (_, i) => ((i * 5) % 7) - 3),
      [3, 3, C, O],
    );
    const direct = tf.conv2d(counts as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    const bin = expandSpikes(counts, D);
    expect(bin.shape).toEqual([D, N, H, W, C]);
    const perStep = tf.unstack(bin).map((b) => tf.conv2d(b as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
    const summed = tf.addN(perStep);
    // Also as one batched conv over [D·N, …], then collapsed.
    const batched = tf.conv2d(tf.reshape(bin, [D * N, H, W, C]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    const collapsed = collapseSpikes(tf.reshape(batched, [D, N, H, W, O]));
    const dv = await direct.data();
    expect(Array.from(await summed.data())).toEqual(Array.from(dv));
    expect(Array.from(await collapsed.data())).toEqual(Array.from(dv));
    expect(dv.some((v) => v !== 0)).toBe(true);
    tf.dispose([pre, s, counts, w, direct, bin, ...perStep, summed, batched, collapsed]);
  });

  it('validates its arguments and does not leak', async () => {
    const c = tf.tensor1d([1, 2]);
    expect(() => expandSpikes(c, 0)).toThrow(ConfigError);
    expect(() => expandSpikes(c, 1.5)).toThrow(/expandSpikes: levels D must be an integer >= 1/);
    expect(() => collapseSpikes(tf.scalar(1))).toThrow(ShapeError);
    expect(() => expandSpikes(undefined as unknown as tf.Tensor)).toThrow(ShapeError);
    await expectNoLeak(() => expandSpikes(c, 4));
    await expectNoLeak(() => tf.tidy(() => collapseSpikes(expandSpikes(c, 4))));
    c.dispose();
  });
});
