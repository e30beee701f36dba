/**
 * Folded conv + BatchNorm weights kept from call to call. {@link foldBatchNorm} computes new
 * tensors each time; in inference every frame would then multiply the weights again and, worse,
 * hand the backend a filter it has never seen: tfjs-backend-wasm keys its XNNPACK operators (with
 * their packed weights) on the filter tensor, so it re-packs every convolution's weights on every
 * call. The cache returns the same tensors for as long as the weights and the BatchNorm's
 * constants are the same tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type FoldedWeights, foldBatchNorm, type NormBase } from './batchnorm';
import type { Conv1d, Conv2d } from './conv';
import type { Linear } from './linear';

/** Whether a gradient tape is recording (weights computed now must be differentiable). */
function recordingGradients(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 0) > 0;
}

/** One layer's folded weights, recomputed only when its weights or the norm's constants change. */
export class FoldedWeightsCache {
  private entry: { key: unknown[]; weights: FoldedWeights } | null = null;

  /**
   * `foldBatchNorm(layer, bn)`, from the cache when nothing it depends on has changed. The
   * returned tensors belong to the cache (do not dispose them). Under a gradient tape it folds
   * anew, so that gradients reach the weights, and caches nothing; those tensors are the caller's
   * scope's, as {@link foldBatchNorm}'s.
   */
  get(layer: Conv2d | Conv1d | Linear, bn: NormBase): FoldedWeights {
    if (recordingGradients()) return foldBatchNorm(layer, bn);
    const { scale, shift } = bn.evalConstants();
    const key = [layer.weight.dataId, layer.bias?.dataId ?? null, scale.dataId, shift.dataId];
    const hit = this.entry;
    if (hit && hit.key.length === key.length && hit.key.every((k, i) => k === key[i])) return hit.weights;
    const weights = foldBatchNorm(layer, bn);
    tf.keep(weights.weight);
    tf.keep(weights.bias);
    this.clear();
    this.entry = { key, weights };
    return weights;
  }

  /** Frees the cached tensors. */
  clear(): void {
    if (this.entry) tf.dispose([this.entry.weights.weight, this.entry.weights.bias]);
    this.entry = null;
  }
}
