import { ConfigError } from '@spiketrack/neurons';
import type { TemplateMemory } from '@spiketrack/memory-retrieval';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * What the search branch needs of the templates: one {@link TemplateMemory} per memory-retrieval
 * module (`kv = kᵀ·v` per template and head, `[T, B, heads, C/heads, 4C/heads]`, the reference's
 * `kv_cache_i`). Made by `SpikeTrackModel.encodeTemplates`; it owns the memories until
 * {@link dispose}. One cache serves every frame until the templates change.
 */
export class TemplateCache {
  private _memories: TemplateMemory[] | null;

  /** Wraps the memories of the six MRMs, taking ownership. */
  constructor(memories: readonly TemplateMemory[]) {
    this._memories = [...memories];
  }

  /** The memories, by MRM index. Owned by the cache: do not dispose them yourself. */
  get memories(): readonly TemplateMemory[] {
    if (!this._memories) throw new ConfigError('TemplateCache: the cache has been disposed');
    return this._memories;
  }

  /** The `kᵀ·v` memory of MRM `i`, `[T, B, heads, C/heads, Cv/heads]` (owned by the cache). */
  kv(i: number): tf.Tensor5D {
    const m = this.memories[i];
    if (!m) {
      throw new ConfigError(
        `TemplateCache: no memory ${String(i)} (the cache holds ${this.memories.length}, indices 0..${this.memories.length - 1})`,
      );
    }
    return m.kv;
  }

  /** T, the number of templates. */
  get numTemplates(): number {
    return this.kv(0).shape[0];
  }

  /** B, the batch size. */
  get batchSize(): number {
    return this.kv(0).shape[1];
  }

  /** Whether {@link dispose} has been called. */
  get isDisposed(): boolean {
    return this._memories === null;
  }

  /** Releases every memory. Idempotent. */
  dispose(): void {
    for (const m of this._memories ?? []) m.dispose();
    this._memories = null;
  }
}
