import { ConfigError, Module } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { type Branch, checkBranch, LinearSpikeAttention } from './attention';
import { type BlockNeuronOptions, checkNorm, checkPositiveInt, type NormKind } from './conv-bn';
import { SpikingMLP } from './mlp';
import { SpikingSepConv } from './sep-conv';
import { timeFirstDims } from './time';

/** Options of {@link SpikingTransformerBlock}. */
export interface SpikingTransformerBlockOptions {
  /** Channels of the input and output. */
  dim: number;
  /** Attention heads (default 8). */
  numHeads?: number;
  /** MLP hidden channels = `trunc(mlpRatio · dim)` (default 4). */
  mlpRatio?: number;
  /** v expansion of the attention (default 4). */
  lamdaRatio?: number;
  /** Side of the token grid of the positional embeddings (default 16, i.e. a 256 search crop). */
  gridSize?: number;
  /** Template positional embeddings (default 4). */
  templateEmbeds?: number;
  /** Normalization (default `'frozen'`). */
  norm?: NormKind;
  /** The neurons (default NI-LIF; see {@link BlockNeuronOptions}). */
  neuron?: BlockNeuronOptions;
  /** Seed of the layers' initialization. */
  seed?: number;
}

/**
 * The transformer block of SDT-V3 as used in SpikeTrack (the reference's `MS_Block_Spike_SepConv`):
 * `x = x + SepConv₃ₓ₃(x)`, `x = x + Attention(x, branch)`, `x = x + MLP(x)`.
 *
 * `forward(x, branch)`: `[T, B, H, W, dim]` → same shape, H·W = `gridSize²`. Children (state-dict
 * keys): `conv` ({@link SpikingSepConv}, kernel 3), `attn` ({@link LinearSpikeAttention}),
 * `mlp` ({@link SpikingMLP}).
 */
export class SpikingTransformerBlock extends Module<[tf.Tensor, Branch], tf.Tensor> {
  readonly dim: number;
  readonly conv: SpikingSepConv;
  readonly attn: LinearSpikeAttention;
  readonly mlp: SpikingMLP;

  constructor(opts: SpikingTransformerBlockOptions) {
    super();
    const where = 'SpikingTransformerBlock';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    const dim = checkPositiveInt(where, 'dim', opts.dim);
    const ratio = opts.mlpRatio ?? 4;
    const hidden = Math.trunc(dim * ratio); // torch: int(dim * mlp_ratio)
    if (!(typeof ratio === 'number' && ratio > 0 && hidden >= 1)) {
      throw new ConfigError(
        `${where}: mlpRatio must be > 0 with at least one hidden channel, got ${String(ratio)}`,
      );
    }
    const norm = checkNorm(where, opts.norm);
    const neuron = opts.neuron ? { neuron: opts.neuron } : {};
    const seed = (i: number) => (opts.seed === undefined ? {} : { seed: opts.seed + i });
    this.dim = dim;
    this.conv = this.child('conv', new SpikingSepConv({ dim, kernelSize: 3, norm, ...neuron, ...seed(0) }));
    this.attn = this.child(
      'attn',
      new LinearSpikeAttention({
        dim,
        numHeads: opts.numHeads ?? 8,
        lamdaRatio: opts.lamdaRatio ?? 4,
        gridSize: opts.gridSize ?? 16,
        templateEmbeds: opts.templateEmbeds ?? 4,
        norm,
        ...neuron,
        ...seed(10),
      }),
    );
    this.mlp = this.child(
      'mlp',
      new SpikingMLP({ inFeatures: dim, hiddenFeatures: hidden, norm, ...neuron, ...seed(20) }),
    );
  }

  /** `[T, B, H, W, dim]` → `[T, B, H, W, dim]`, for the `search` or `template` branch. */
  forward(x: tf.Tensor, branch: Branch): tf.Tensor {
    const br = checkBranch(this.label, branch);
    timeFirstDims(x, this.label, this.dim);
    let y = tf.add(x, this.conv.apply(x));
    y = tf.add(y, this.attn.apply(y, br));
    return tf.add(y, this.mlp.apply(y));
  }
}
