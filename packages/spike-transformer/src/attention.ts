import { ConfigError, Module, ParameterList, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  ConvBn,
  checkNorm,
  checkPositiveInt,
  makeNeuron,
  type NormKind,
} from './conv-bn';
import { spikeLinearAttention } from './linear-attention';

import { mergeTime, splitTime, timeFirstDims } from './time';

/**
 * Which branch a feature map belongs to: the search image (one timestep, positional embedding
 * `s_pos_embed`) or the templates (T timesteps, embedding `t_pos_embeds[t]` for timestep t).
 */
export type Branch = 'search' | 'template';

/** Checks a {@link Branch}. */
export function checkBranch(where: string, branch: unknown): Branch {
  if (branch !== 'search' && branch !== 'template') {
    throw new ConfigError(`${where}: branch must be 'search' or 'template', got ${String(branch)}`);
  }
  return branch;
}

/** Options of {@link LinearSpikeAttention}. */
export interface LinearSpikeAttentionOptions {
  /** Channels of the input and output. */
  dim: number;
  /** Heads (default 8); must divide `dim`. */
  numHeads?: number;
  /** v is expanded to `lamdaRatio · dim` channels (default 4, as in the backbone's blocks). */
  lamdaRatio?: number;
  /**
   * Side of the token grid the positional embeddings cover (default 16 = 256/16): the embeddings
   * have `gridSize²` tokens, and inputs must have `H·W = gridSize²` (the reference's resolution
   * 256 → 16, 384 → 24).
   */
  gridSize?: number;
  /** Template positional embeddings (default 4); timestep t uses `t_pos_embeds[min(t, n − 1)]`. */
  templateEmbeds?: number;
  /** Normalization after each conv (default `'frozen'`). */
  norm?: NormKind;
  /** The neurons (default NI-LIF; see {@link BlockNeuronOptions}). */
  neuron?: BlockNeuronOptions;
  /** Seed of the convs' initialization. */
  seed?: number;
}

/**
 * Spike-driven linear attention of SDT-V3 as used in SpikeTrack (the reference's
 * `MS_Attention_linear_3d`): add the branch's positional embedding, NI-LIF, then 1×1 conv + BN
 * to q, k (`dim`) and v (`lamdaRatio·dim`), an NI-LIF on each, `q·(kᵀ·v)·scale·2` per head
 * ({@link spikeLinearAttention}, no softmax), an NI-LIF, and a 1×1 conv + BN back to `dim`.
 *
 * `forward(x, branch)`: x `[T, B, H, W, dim]` → `[T, B, H, W, dim]`, H·W = `gridSize²`.
 * Children and parameters (state-dict keys): `s_pos_embed` `[1, dim, gridSize²]`, `head_spike`,
 * `q_spike`, `k_spike`, `v_spike`, `attn_spike`, `q_conv.{0,1}`, `k_conv.{0,1}`, `v_conv.{0,1}`,
 * `proj_conv.{0,1}`, `t_pos_embeds.{0..3}` (embeddings in torch's `[1, C, N]` layout).
 */
export class LinearSpikeAttention extends Module<[tf.Tensor, Branch], tf.Tensor> {
  readonly dim: number;
  readonly numHeads: number;
  readonly lamdaRatio: number;
  /** Channels of v: `lamdaRatio · dim`. */
  readonly valueDim: number;
  readonly gridSize: number;
  readonly s_pos_embed: tf.Variable;
  readonly head_spike: BlockNeuron;
  readonly q_spike: BlockNeuron;
  readonly k_spike: BlockNeuron;
  readonly v_spike: BlockNeuron;
  readonly attn_spike: BlockNeuron;
  readonly q_conv: ConvBn;
  readonly k_conv: ConvBn;
  readonly v_conv: ConvBn;
  readonly proj_conv: ConvBn;
  readonly t_pos_embeds: ParameterList;

  constructor(opts: LinearSpikeAttentionOptions) {
    super();
    const where = 'LinearSpikeAttention';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    const dim = checkPositiveInt(where, 'dim', opts.dim);
    const heads = checkPositiveInt(where, 'numHeads', opts.numHeads ?? 8);
    if (dim % heads !== 0)
      throw new ConfigError(`${where}: dim ${dim} should be divisible by numHeads ${heads}`);
    const ratio = opts.lamdaRatio ?? 4;
    const valueDim = Math.trunc(dim * ratio); // torch: int(dim * lamda_ratio)
    if (!(typeof ratio === 'number' && ratio > 0) || valueDim % heads !== 0 || valueDim < 1) {
      throw new ConfigError(
        `${where}: lamdaRatio ${String(ratio)} gives ${valueDim} value channels, which must be a positive multiple of numHeads ${heads}`,
      );
    }
    const grid = checkPositiveInt(where, 'gridSize', opts.gridSize ?? 16);
    const nT = checkPositiveInt(where, 'templateEmbeds', opts.templateEmbeds ?? 4);
    const norm = checkNorm(where, opts.norm);
    const seed = (i: number) => (opts.seed === undefined ? {} : { seed: opts.seed + i });
    this.dim = dim;
    this.numHeads = heads;
    this.lamdaRatio = ratio;
    this.valueDim = valueDim;
    this.gridSize = grid;
    const tokens = grid * grid;
    // The reference's order: parameters, then children (torch lists them that way too).
    this.s_pos_embed = this.param('s_pos_embed', tf.zeros([1, dim, tokens]));
    this.head_spike = this.child('head_spike', makeNeuron(opts.neuron, 0, where));
    this.q_spike = this.child('q_spike', makeNeuron(opts.neuron, 0, where));
    this.k_spike = this.child('k_spike', makeNeuron(opts.neuron, 0, where));
    this.v_spike = this.child('v_spike', makeNeuron(opts.neuron, 0, where));
    this.attn_spike = this.child('attn_spike', makeNeuron(opts.neuron, 0, where));
    this.q_conv = this.child('q_conv', new ConvBn(dim, dim, { norm, ...seed(0) }));
    this.k_conv = this.child('k_conv', new ConvBn(dim, dim, { norm, ...seed(1) }));
    this.v_conv = this.child('v_conv', new ConvBn(dim, valueDim, { norm, ...seed(2) }));
    this.proj_conv = this.child('proj_conv', new ConvBn(valueDim, dim, { norm, ...seed(3) }));
    this.t_pos_embeds = this.child(
      't_pos_embeds',
      new ParameterList(Array.from({ length: nT }, () => tf.zeros([1, dim, tokens]))),
    );
  }

  /**
   * The positional embeddings to add for `branch` at T timesteps, as `[T or 1, 1, H, W, dim]`
   * (torch's `[1, C, N]` transposed to channels last).
   */
  private positional(branch: Branch, t: number, h: number, w: number): tf.Tensor {
    const nhwc = (p: tf.Tensor) => tf.reshape(tf.transpose(p, [0, 2, 1]), [1, 1, h, w, this.dim]);
    if (branch === 'search') return nhwc(this.s_pos_embed);
    const n = this.t_pos_embeds.length;
    const steps = Array.from({ length: t }, (_, i) => nhwc(this.t_pos_embeds.at(Math.min(i, n - 1))));
    return steps.length === 1 ? steps[0]! : tf.concat(steps, 0);
  }

  /** `[T, B, H, W, dim]` → `[T, B, H, W, dim]`, for the `search` or `template` branch. */
  forward(x: tf.Tensor, branch: Branch): tf.Tensor {
    const b0 = checkBranch(this.label, branch);
    const { t, b, h, w } = timeFirstDims(x, this.label, this.dim);
    const n = h * w;
    if (n !== this.gridSize * this.gridSize) {
      throw new ShapeError(
        `${this.label}: the positional embeddings cover ${this.gridSize}×${this.gridSize} = ${this.gridSize ** 2} tokens, but the input [${x.shape.join(', ')}] has H·W = ${h}·${w} = ${n}`,
      );
    }
    let y = tf.add(x, this.positional(b0, t, h, w));
    y = mergeTime(this.head_spike.apply(y));
    const tokens = (z: tf.Tensor, c: number) => tf.reshape(z, [t, b, n, c]);
    const q = this.q_spike.apply(tokens(this.q_conv.apply(y), this.dim));
    const k = this.k_spike.apply(tokens(this.k_conv.apply(y), this.dim));
    const v = this.v_spike.apply(tokens(this.v_conv.apply(y), this.valueDim));
    const a = spikeLinearAttention(q, k, v, { numHeads: this.numHeads, label: this.path || 'attn' });
    const s = this.attn_spike.apply(tf.reshape(a, [t, b, h, w, this.valueDim]));
    return splitTime(this.proj_conv.apply(mergeTime(s)), t, b);
  }
}
