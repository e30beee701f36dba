import { ConfigError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';

function checkSize(where: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new ConfigError(`${where}: size must be a positive integer, got ${String(n)}`);
  }
  return n;
}

/**
 * The values of the centred 1-D Hann (cosine) window of length `n`, as the reference tracker's
 * `hann1d(n, centered=True)`: `0.5·(1 − cos(2πk/(n+1)))` for k = 1..n. It is never 0 at the
 * border. Each step is rounded to float32 as torch computes it.
 */
export function hann1dValues(n: number): Float32Array {
  const size = checkSize('hann1d', n);
  const out = new Float32Array(size);
  const step = Math.fround((2 * Math.PI) / (size + 1));
  for (let k = 1; k <= size; k++) {
    const c = Math.fround(Math.cos(Math.fround(step * k)));
    out[k - 1] = Math.fround(0.5 * Math.fround(1 - c));
  }
  return out;
}

/** The centred 1-D Hann window of length `n` as a tensor `[n]` (see {@link hann1dValues}). */
export function hann1d(n: number): tf.Tensor1D {
  return tf.tensor1d(hann1dValues(n), 'float32');
}

/**
 * The centred 2-D Hann window `hann1d(h)ᵀ · hann1d(w)`, as the reference's
 * `hann2d([h, w], centered=True)`, in NHWC: `[1, h, w, 1]`, so it multiplies a score map
 * `[B, h, w, 1]` directly. `w` defaults to `h`.
 */
export function hann2d(h: number, w: number = h): tf.Tensor4D {
  const rows = hann1dValues(h);
  const cols = hann1dValues(checkSize('hann2d', w));
  const out = new Float32Array(rows.length * cols.length);
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < cols.length; j++) out[i * cols.length + j] = Math.fround(rows[i]! * cols[j]!);
  }
  return tf.tensor4d(out, [1, rows.length, cols.length, 1], 'float32');
}
