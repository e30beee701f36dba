/**
 * Data-parallel training: a {@link GradientShard} computes the gradients of a part of a step's batch
 * somewhere else (a worker thread with its own tfjs backend, in `spiketrack/node`), from the
 * weights the trainer sends it. The {@link Trainer} splits each batch between itself and its shards
 * and averages the parts' gradients, weighted by their sample counts.
 */
import { ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@spiketrack/neurons';
import type { NormStatsMode } from './norm-stats';

/** A tensor as plain data, to send across threads. */
export interface TensorData {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  readonly data: Float32Array | Int32Array;
}

/** One step's work for a shard. */
export interface ShardRequest {
  /** The step (for error messages). */
  readonly step: number;
  /** The sampler's sample indices of this part of the batch. */
  readonly indices: readonly number[];
  /** The model's whole state (parameters and buffers), native layout, by state-dict key. */
  readonly weights: ReadonlyMap<string, TensorData>;
  /** What batch-statistic BatchNorms normalize with (default `'batch'`; see `norm-stats.ts`). */
  readonly normStats?: NormStatsMode;
}

/** A shard's answer: means over its samples. */
export interface ShardResult {
  /** Samples it computed (`indices.length`). */
  readonly count: number;
  /** The loss, averaged over its samples. */
  readonly loss: number;
  /** The loss's named parts (`giou`, `l1`, `focal`, `mean_iou`, …), averaged over its samples. */
  readonly parts: Readonly<Record<string, number>>;
  /** Gradients by parameter name (the keys of `trainableParameters()`), of its mean loss. */
  readonly grads: ReadonlyMap<string, TensorData>;
}

/**
 * Computes the gradients of a part of a batch elsewhere. The shard holds its own copy of the
 * network (same configuration) and sampler (same sequences, options and seed), so that sample `i`
 * is the same sample everywhere; each request carries the current weights.
 */
export interface GradientShard {
  gradients(request: ShardRequest): Promise<ShardResult>;
  /** Stops the shard (a worker thread: terminates it). */
  dispose(): Promise<void>;
}

/** Reads a tensor into plain data (a copy). */
export function tensorData(t: tf.Tensor): TensorData {
  if (t.dtype === 'int32') return { shape: [...t.shape], dtype: 'int32', data: t.dataSync() as Int32Array };
  const data = t.dtype === 'float32' ? (t.dataSync() as Float32Array) : Float32Array.from(t.dataSync());
  return { shape: [...t.shape], dtype: 'float32', data };
}

/** The model's state dict as plain data (what a {@link ShardRequest} carries). */
export function exportWeights(model: Pick<Module, 'stateDict'>): Map<string, TensorData> {
  const dict = model.stateDict();
  try {
    return new Map([...dict].map(([k, t]) => [k, tensorData(t)]));
  } finally {
    tf.dispose([...dict.values()]);
  }
}

/** Loads weights exported by {@link exportWeights} into `model` (strict, native layout). */
export function importWeights(
  model: Pick<Module, 'loadStateDict'>,
  weights: ReadonlyMap<string, TensorData>,
  source = 'shard weights',
): void {
  const dict = new Map<string, tf.Tensor>();
  try {
    for (const [k, w] of weights) dict.set(k, tf.tensor(w.data, [...w.shape], w.dtype));
    model.loadStateDict(dict, { layout: 'native', source });
  } finally {
    tf.dispose([...dict.values()]);
  }
}

/**
 * Splits `batchSize` samples into `parts` contiguous parts as evenly as possible (the first parts
 * take one more). Every part gets at least one sample.
 */
export function splitBatch(batchSize: number, parts: number): number[] {
  const base = Math.floor(batchSize / parts);
  const extra = batchSize % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * The batch's mean gradient from its parts' mean gradients: `Σ countᵢ · gᵢ / Σ countᵢ`, per
 * parameter. `local` holds this thread's tensors (disposed here, or returned as they are when there
 * are no shards); `shards` the shards' answers.
 * Every part must have a gradient for the same parameters, with the parameters' shapes.
 */
export function combineGradients(
  local: { count: number; grads: Map<string, tf.Tensor> },
  shards: readonly ShardResult[],
  shapes: ReadonlyMap<string, readonly number[]>,
): Map<string, tf.Tensor> {
  if (shards.length === 0) return local.grads;
  const total = local.count + shards.reduce((a, s) => a + s.count, 0);
  const out = new Map<string, tf.Tensor>();
  try {
    for (const [name, g] of local.grads) {
      const shape = shapes.get(name);
      const combined = tf.tidy(() => {
        let sum = tf.mul(g, local.count / total);
        shards.forEach((s, i) => {
          const d = s.grads.get(name);
          if (!d) throw new ShapeError(`gradient shard ${i}: no gradient for '${name}'`);
          if (!shape || d.data.length !== tf.util.sizeFromShape([...shape])) {
            throw new ShapeError(
              `gradient shard ${i}: the gradient of '${name}' has ${d.data.length} values, the parameter [${shape}]`,
            );
          }
          sum = tf.add(sum, tf.mul(tf.tensor(d.data, g.shape, 'float32'), s.count / total));
        });
        return sum;
      });
      out.set(name, combined);
    }
    shards.forEach((s, i) => {
      for (const name of s.grads.keys()) {
        if (!local.grads.has(name))
          throw new ShapeError(`gradient shard ${i}: unexpected gradient '${name}'`);
      }
    });
    return out;
  } catch (e) {
    tf.dispose([...out.values()]);
    throw e;
  } finally {
    tf.dispose([...local.grads.values()]);
  }
}
