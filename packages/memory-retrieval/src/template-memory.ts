import { ConfigError, formatShape, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';

/**
 * What a {@link Retriever} remembers of the templates: the linear-attention memory `kᵀ·v` per
 * template and head, `kv` of shape `[T, B, heads, C/heads, Cv/heads]` (the reference's template
 * cache `cross_block_i` / `kv_cache_i`, the same layout as torch's).
 *
 * It owns `kv` (kept out of every `tf.tidy`) until {@link dispose}. Template t's entry depends on
 * templates 0..t (the template neurons integrate over the template timesteps), so after replacing
 * a template, memorize the whole set again.
 */
export class TemplateMemory {
  private _kv: tf.Tensor5D | null;

  /**
   * Wraps a `kᵀ·v` tensor `[T, B, heads, dk, dv]`, taking ownership (e.g. a cache computed
   * elsewhere, or the reference's `kv_cache_i` read from a file). {@link Retriever.memorize}
   * builds one from templates.
   */
  constructor(kv: tf.Tensor) {
    if (!(kv instanceof tf.Tensor) || kv.rank !== 5) {
      throw new ShapeError(
        `TemplateMemory: expected kv of shape [T, B, heads, dk, dv], got ${kv instanceof tf.Tensor ? formatShape(kv.shape) : String(kv)}`,
      );
    }
    if (kv.dtype !== 'float32') {
      throw new ShapeError(`TemplateMemory: expected float32 kv, got ${kv.dtype}`);
    }
    if (kv.shape.some((d) => d < 1)) {
      throw new ShapeError(`TemplateMemory: kv has an empty dimension: ${formatShape(kv.shape)}`);
    }
    this._kv = tf.keep(kv as tf.Tensor5D);
  }

  /** The memory `[T, B, heads, dk, dv]`. Owned by this object: do not dispose it yourself. */
  get kv(): tf.Tensor5D {
    if (!this._kv) throw new ConfigError('TemplateMemory: the memory has been disposed');
    return this._kv;
  }

  /** T, the number of templates (timesteps) remembered. */
  get numTemplates(): number {
    return this.kv.shape[0];
  }

  /** B, the batch size. */
  get batchSize(): number {
    return this.kv.shape[1];
  }

  /** Heads of the attention. */
  get numHeads(): number {
    return this.kv.shape[2];
  }

  /** Whether {@link dispose} has been called. */
  get isDisposed(): boolean {
    return this._kv === null;
  }

  /** Releases the memory's tensor. Idempotent. */
  dispose(): void {
    this._kv?.dispose();
    this._kv = null;
  }
}
