import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ShapeError } from '../core/errors';
import { formatShape } from '../core/shape';

/** Base config of every spiking tfjs-layers layer. */
export interface SpikingLayerArgs {
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
  batchSize?: number;
  dtype?: tf.DataType;
}

/** Moves axis 1 (time, Keras's `[B, T, …]`) to axis 0 (`[T, B, …]`), or back: the same permutation. */
function swapBatchTime(x: tf.Tensor): tf.Tensor {
  const perm = [1, 0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)];
  return tf.transpose(x, perm);
}

/**
 * A tfjs-layers layer that runs a multi-step neuron over Keras's batch-first `[B, T, …]` input
 * and returns spikes of the same shape. Subclasses implement {@link neuron} on time-first
 * `[T, B, …]` tensors (the functional core) and {@link getConfig}.
 */
export abstract class SpikingLayer extends tfl.layers.Layer {
  /** Runs the neuron on time-first input `[T, B, …]`. */
  protected abstract neuron(x: tf.Tensor): tf.Tensor;

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (x.rank < 3) {
        throw new ShapeError(
          `${this.getClassName()}(${this.name}): expected input of shape [batch, time, …features] (rank ≥ 3), got ${formatShape(x.shape)}`,
        );
      }
      return swapBatchTime(this.neuron(swapBatchTime(x)));
    });
  }
}
