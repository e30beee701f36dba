/**
 * The gradients of a loss over a batch of training samples: the forward pass of the training path,
 * the loss and its named parts, and the gradient of every trainable parameter, by name. Shared by
 * the {@link Trainer} and the gradient shards of data-parallel training.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrackingNetwork } from '../model/tracking-network';
import type { TrainingSample } from './sampler';
import { batchTensors } from './batch-tensors';
import type { TrainingLoss } from './training-loss';

/** What {@link batchGradients} computed; the caller owns (and disposes) every tensor. */
export interface BatchGradients {
  /** The loss, a mean over the batch. */
  value: tf.Scalar;
  /** The names of the loss's parts, in the order of {@link parts}. */
  partNames: string[];
  parts: tf.Scalar[];
  /** Gradients by parameter name (the keys of `params`). */
  grads: Map<string, tf.Tensor>;
  /** Disposes everything above. */
  dispose(): void;
}

/**
 * Runs `model.forward` on `samples` (the model's mode is the caller's: training, for training),
 * applies `loss`, and differentiates it with respect to `params` (name → variable; parameters the
 * loss does not depend on get no entry).
 */
export function batchGradients(
  model: TrackingNetwork,
  loss: TrainingLoss,
  samples: readonly TrainingSample[],
  params: ReadonlyMap<string, tf.Variable>,
): BatchGradients {
  const R = model.config.resolution;
  const { templates, search, boxes } = batchTensors(samples, R);
  const nameOf = new Map<string, string>();
  for (const [name, v] of params) nameOf.set(v.name, name);
  let partNames: string[] = [];
  const parts: tf.Scalar[] = [];
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.variableGrads(() => {
      const out = model.forward(templates, search);
      const l = loss(out, { boxes, resolution: R });
      partNames = Object.keys(l.parts);
      for (const n of partNames) parts.push(tf.keep(tf.clone(l.parts[n] as tf.Scalar)));
      return l.total;
    }, [...params.values()]);
  } catch (e) {
    tf.dispose(parts);
    throw e;
  } finally {
    tf.dispose([templates, search, boxes]);
  }
  const grads = new Map<string, tf.Tensor>();
  for (const [vname, g] of Object.entries(result.grads)) {
    const name = nameOf.get(vname);
    if (name) grads.set(name, g);
    else g.dispose();
  }
  const { value } = result;
  return {
    value,
    partNames,
    parts,
    grads,
    dispose: () => tf.dispose([value, ...parts, ...grads.values()]),
  };
}
