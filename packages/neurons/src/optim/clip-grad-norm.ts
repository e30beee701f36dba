import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';

/** The result of {@link clipGradNorm}. The caller owns every tensor. */
export interface ClippedGradients {
  /** The gradients, scaled by `min(1, maxNorm / (totalNorm + 1e-6))`. */
  grads: Map<string, tf.Tensor>;
  /** The L2 norm of all gradients together, before clipping (a scalar; NaN/Inf if any gradient is). */
  totalNorm: tf.Scalar;
}

/**
 * The sum of many same-shaped tensors as a tree of `addN`s over at most 4 inputs each. On WebGPU,
 * tfjs's `AddN` binds a storage buffer per input plus one for the output, and WebGPU's default
 * limit is 8 per shader stage: over 7 inputs the pipeline is invalid and the result is silently
 * wrong (0); over a few hundred the WGSL expression is also deeper than compilers accept.
 */
function sumInGroups(xs: tf.Tensor[]): tf.Tensor {
  let level = xs;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 4) {
      const group = level.slice(i, i + 4);
      next.push(group.length === 1 ? (group[0] as tf.Tensor) : tf.addN(group));
    }
    level = next;
  }
  return level[0] as tf.Tensor;
}

/**
 * Clips gradients by their global L2 norm, as `torch.nn.utils.clip_grad_norm_` does:
 * `total = ‖(‖g₁‖, …, ‖gₙ‖)‖₂`, then every gradient is multiplied by
 * `min(1, maxNorm / (total + 1e-6))`. Everything stays on the device (no read-back), so it costs
 * no synchronisation on WebGPU; read `totalNorm` when you need it (e.g. to stop on NaN).
 * The inputs are not disposed.
 */
export function clipGradNorm(
  grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>,
  maxNorm: number,
): ClippedGradients {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new ConfigError(`clipGradNorm: maxNorm must be a positive finite number, got ${maxNorm}`);
  }
  const entries = grads instanceof Map ? [...grads] : Object.entries(grads);
  if (entries.length === 0) return { grads: new Map(), totalNorm: tf.scalar(0) };
  const [total, ...scaled] = tf.tidy(() => {
    const squares = entries.map(([, g]) => tf.sum(tf.square(tf.cast(g, 'float32'))));
    const norm = tf.sqrt(sumInGroups(squares)) as tf.Scalar;
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return [norm, ...entries.map(([, g]) => tf.mul(g, coef))];
  });
  const out = new Map<string, tf.Tensor>();
  entries.forEach(([k], i) => {
    out.set(k, scaled[i] as tf.Tensor);
  });
  return { grads: out, totalNorm: total as tf.Scalar };
}
