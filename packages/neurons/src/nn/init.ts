import * as tf from '@tensorflow/tfjs-core';

/**
 * PyTorch's default initialization of conv and linear weights: `kaiming_uniform_(a = √5)`, which is
 * uniform on `±1/√fanIn`. `seed` makes it deterministic (the same numbers on every backend, since
 * tfjs draws them in JS).
 */
export function kaimingUniform(shape: number[], fanIn: number, seed?: number): tf.Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return tf.randomUniform(shape, -bound, bound, 'float32', seed);
}

/** PyTorch's default bias initialization of conv and linear layers: uniform on `±1/√fanIn`. */
export function biasUniform(size: number, fanIn: number, seed?: number): tf.Tensor {
  return kaimingUniform([size], fanIn, seed === undefined ? undefined : seed + 1);
}
