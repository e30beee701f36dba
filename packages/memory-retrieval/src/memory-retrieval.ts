import { ConfigError, Module } from '@spiketrack/neurons';
import { SpikingMLP } from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';
import { optionsObject, positiveInt } from './checks';
import { Retriever, type RetrieverOptions } from './retriever';
import { TemplateMemory } from './template-memory';

/** Options of {@link MemoryRetrieval}: the {@link Retriever}'s, and the MLP's ratio. */
export interface MemoryRetrievalOptions extends RetrieverOptions {
  /** Hidden channels of the spiking MLP: `mlpRatio · dim` (default 4, the reference's `mlp_ratios`). */
  mlpRatio?: number;
}

/**
 * SpikeTrack's memory retrieval module (MRM, `lib/models/spiketrack/sdtv3.py: MemoryRetrieval`):
 * `y = search + retriever(templates, search)`, then `y + mlp(y)` with the spike-driven MLP
 * (`MS_MLP` with `nn.BatchNorm1d`, {@link SpikingMLP} with `norm: 'batch'`).
 *
 * Children (state-dict keys, as `encoder.mrm.<i>.*` of a checkpoint): `retriever`
 * ({@link Retriever}) and `mlp` (`fc1_conv`, `fc1_spike`, `fc2_conv`, `fc2_spike`, `fc1_bn`,
 * `fc2_bn`).
 *
 * The one-way flow: {@link memorize} runs the template branch once and returns the memory, then
 * {@link retrieve} runs each search frame against it; `apply(templates, search)` does both.
 * Search `[1, B, H, W, C]` → `[1, B, H, W, C]`.
 */
export class MemoryRetrieval extends Module<[tf.Tensor, tf.Tensor], tf.Tensor> {
  readonly dim: number;
  readonly mlpRatio: number;
  readonly retriever: Retriever;
  readonly mlp: SpikingMLP;

  constructor(opts: MemoryRetrievalOptions) {
    super();
    const where = 'MemoryRetrieval';
    optionsObject(where, opts);
    const { mlpRatio, ...retrieverOpts } = opts;
    const ratio = positiveInt(where, 'mlpRatio', mlpRatio ?? 4);
    this.retriever = this.child('retriever', new Retriever(retrieverOpts));
    this.dim = this.retriever.dim;
    this.mlpRatio = ratio;
    this.mlp = this.child(
      'mlp',
      new SpikingMLP({
        inFeatures: this.dim,
        hiddenFeatures: this.dim * ratio,
        norm: 'batch',
        ...(opts.neuron ? { neuron: opts.neuron } : {}),
        ...(opts.seed === undefined ? {} : { seed: opts.seed + 1000 }),
      }),
    );
  }

  /** Encodes the templates `[T, B, H, W, C]` into the retriever's memory (owned by the caller). Tidy. */
  memorize(templates: tf.Tensor): TemplateMemory {
    this.assertAlive();
    return this.retriever.memorize(templates);
  }

  /** The search `[1, B, H, W, C]` against `memory` → `[1, B, H, W, C]`. Tidy. */
  retrieve(search: tf.Tensor, memory: TemplateMemory): tf.Tensor {
    this.assertAlive();
    if (!(memory instanceof TemplateMemory)) {
      throw new ConfigError(
        `${this.label}: retrieve needs a TemplateMemory (from memorize), got ${String(memory)}`,
      );
    }
    return tf.tidy(() => this.residual(search, this.retriever.retrieve(search, memory)));
  }

  private residual(search: tf.Tensor, retrieved: tf.Tensor): tf.Tensor {
    const y = tf.add(search, retrieved);
    return tf.add(y, this.mlp.apply(y));
  }

  /** `(templates [T, B, H, W, C], search [1, B, H', W', C])` → `[1, B, H', W', C]`. */
  forward(templates: tf.Tensor, search: tf.Tensor): tf.Tensor {
    return this.residual(search, this.retriever.apply(templates, search));
  }
}
