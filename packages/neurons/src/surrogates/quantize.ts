import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';

function assertRange(where: string, min: number, max: number): void {
  if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) {
    throw new ConfigError(`${where}: expected finite min <= max, got min=${min}, max=${max}`);
  }
}

function assertLevels(where: string, levels: number): void {
  if (!(Number.isInteger(levels) && levels >= 1)) {
    throw new ConfigError(`${where}: levels D must be an integer >= 1, got ${levels}`);
  }
}

const quantizers = new Map<string, (x: tf.Tensor) => tf.Tensor>();

function quantizerFor(min: number, max: number): (x: tf.Tensor) => tf.Tensor {
  const key = `${min},${max}`;
  let q = quantizers.get(key);
  if (!q) {
    q = tf.customGrad((...args: unknown[]) => {
      const x = args[0] as tf.Tensor;
      const save = args[args.length - 1] as (ts: tf.Tensor[]) => void;
      save([x]);
      return {
        value: tf.round(tf.clipByValue(x, min, max)),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const xs = saved[0]!;
          const inside = tf.logicalAnd(tf.greaterEqual(xs, min), tf.lessEqual(xs, max));
          return tf.mul(dy as tf.Tensor, tf.cast(inside, 'float32'));
        },
      };
    }) as (x: tf.Tensor) => tf.Tensor;
    quantizers.set(key, q);
  }
  return q;
}

/**
 * SpikeTrack's multi-level quantizer (`Quant.apply(x, min, max)`): `round(clamp(x, min, max))`,
 * rounding half to even as torch (`tf.round` does; `Math.round` does not).
 *
 * Backward is straight-through inside `[min, max]` (both ends included) and zero outside.
 */
export function quantize(x: tf.Tensor, min: number, max: number): tf.Tensor {
  assertRange('quantize', min, max);
  if (!(x instanceof tf.Tensor)) throw new ConfigError(`quantize: expected a tf.Tensor, got ${typeof x}`);
  return tf.tidy(() => quantizerFor(min, max)(x.dtype === 'float32' ? x : tf.cast(x, 'float32')));
}

/**
 * SpikeTrack's normalized integer spike (`MultiSpike`): `quantize(x, 0, D) / D`, so the output takes
 * the values `{0, 1/D, …, 1}`. The gradient is straight-through inside `[0, D]`, divided by D.
 * Default D = 4.
 */
export function multiSpike(x: tf.Tensor, levels = 4): tf.Tensor {
  assertLevels('multiSpike', levels);
  return tf.tidy(() => tf.div(quantize(x, 0, levels), tf.scalar(levels)));
}

/**
 * Integer spike counts: `quantize(x, 0, D)` (I-LIF's `C = round(clamp(x, 0, D))`), with the
 * straight-through gradient inside `[0, D]`.
 */
export function spikeCount(x: tf.Tensor, levels = 4): tf.Tensor {
  assertLevels('spikeCount', levels);
  return quantize(x, 0, levels);
}
