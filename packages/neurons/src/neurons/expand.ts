import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors';
import { assertTensor, checkLevels } from './common';

/**
 * Expands integer spike counts `c ∈ {0, …, D}` into D binary sub-steps on a new leading axis:
 * sub-step `k` (0-based) is 1 where `c > k`, so the first `c` sub-steps are set. The result has
 * shape `[D, …x.shape]`, and {@link collapseSpikes} sums it back.
 *
 * This is the equivalence behind integer-training / spike-driven inference: a linear operation on
 * counts equals the sum of the same operation over the binary sub-steps, so hardware that only
 * accumulates binary spikes can run a network trained with integer counts. Multiply a normalized
 * spike (NI-LIF output) by its `spikeCountScale` first. Values are compared against `k + 0.5`, so
 * counts that are off an integer by float noise expand as their nearest integer; counts outside
 * `[0, D]` saturate. No gradient.
 */
export function expandSpikes(counts: tf.Tensor, levels = 4): tf.Tensor {
  assertTensor('expandSpikes', counts, 'counts');
  const d = checkLevels('expandSpikes', levels);
  return tf.tidy(() => {
    const c = counts.dtype === 'float32' ? counts : tf.cast(counts, 'float32');
    const thresholds = tf.reshape(tf.add(tf.range(0, d, 1, 'float32'), 0.5), [
      d,
      ...counts.shape.map(() => 1),
    ]);
    return tf.cast(tf.greater(tf.expandDims(c, 0), thresholds), 'float32');
  });
}

/** The inverse of {@link expandSpikes}: sums binary sub-steps `[D, …]` back into counts `[…]`. */
export function collapseSpikes(binary: tf.Tensor): tf.Tensor {
  assertTensor('collapseSpikes', binary, 'binary');
  if (binary.rank < 1) {
    throw new ShapeError(
      'collapseSpikes: expected binary sub-steps of shape [D, …], got a scalar of shape []',
    );
  }
  return tf.tidy(() => tf.sum(binary, 0));
}
