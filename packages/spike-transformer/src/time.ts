import { formatShape, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';

/** The dimensions of a time-first NHWC feature map `[T, B, H, W, C]`. */
export interface TimeFirstDims {
  t: number;
  b: number;
  h: number;
  w: number;
  c: number;
}

/**
 * Checks that `x` is a time-first NHWC feature map `[T, B, H, W, C]` (with `channels` channels when
 * given) and returns its dimensions. Throws a {@link ShapeError} naming `where` otherwise.
 */
export function timeFirstDims(x: tf.Tensor, where: string, channels?: number, what = 'input'): TimeFirstDims {
  if (!(x instanceof tf.Tensor)) {
    throw new ShapeError(`${where}: expected ${what} to be a tf.Tensor of shape [T, B, H, W, C]`);
  }
  const ok = x.rank === 5 && (channels === undefined || x.shape[4] === channels);
  if (!ok) {
    const c = channels === undefined ? 'C' : String(channels);
    throw new ShapeError(
      `${where}: expected ${what} of shape [T, B, H, W, ${c}] (time first, NHWC), got ${formatShape(x.shape)}`,
    );
  }
  const [t, b, h, w, c] = x.shape as [number, number, number, number, number];
  if (t < 1 || b < 1 || h < 1 || w < 1 || c < 1) {
    throw new ShapeError(`${where}: ${what} has an empty dimension: ${formatShape(x.shape)}`);
  }
  return { t, b, h, w, c };
}

/** `[T, B, H, W, C]` → `[T·B, H, W, C]`, the layout the 2-D convolutions run on. */
export function mergeTime(x: tf.Tensor): tf.Tensor4D {
  const [t, b, h, w, c] = x.shape as [number, number, number, number, number];
  return tf.reshape(x, [t * b, h, w, c]);
}

/** `[T·B, H, W, C]` → `[T, B, H, W, C]`: undoes {@link mergeTime}. */
export function splitTime(x: tf.Tensor, t: number, b: number): tf.Tensor5D {
  const [, h, w, c] = x.shape as [number, number, number, number];
  return tf.reshape(x, [t, b, h, w, c]);
}
