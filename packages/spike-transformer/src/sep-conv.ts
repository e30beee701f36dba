import { ConfigError, Module } from '@spiketrack/neurons';
import type * as tf from '@tensorflow/tfjs-core';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  ConvBn,
  checkNorm,
  checkPositiveInt,
  makeNeuron,
  type NormKind,
} from './conv-bn';
import { mergeTime, splitTime, timeFirstDims } from './time';

/** Options of {@link SpikingSepConv}. */
export interface SpikingSepConvOptions {
  /** Input and output channels. */
  dim: number;
  /** Hidden channels = `expansionRatio · dim` (default 2). */
  expansionRatio?: number;
  /** Depthwise kernel size (default 7; the transformer blocks use 3). */
  kernelSize?: number;
  /** Depthwise padding (default `(kernelSize − 1)/2`, "same"). */
  padding?: number;
  /** Conv biases (default false). */
  bias?: boolean;
  /** Normalization after each conv (default `'frozen'`). */
  norm?: NormKind;
  /** The three neurons (default NI-LIF; see {@link BlockNeuronOptions}). */
  neuron?: BlockNeuronOptions;
  /** Seed of the convs' initialization (each conv gets its own offset). */
  seed?: number;
}

/**
 * The spiking inverted separable convolution of SDT-V3 (the reference's `SepConv_Spike`, after
 * MobileNetV2): NI-LIF → pointwise conv + BN (`dim → expansionRatio·dim`) → NI-LIF → depthwise
 * k×k conv + BN → NI-LIF → pointwise conv + BN (`→ dim`). No residual (the enclosing block adds it).
 *
 * Input and output are time-first NHWC `[T, B, H, W, dim]`; the convs run on `[T·B, H, W, C]`.
 * Children (state-dict keys): `spike1`, `pwconv1.{0,1}`, `spike2`, `dwconv.{0,1}`, `spike3`,
 * `pwconv2.{0,1}`.
 */
export class SpikingSepConv extends Module {
  readonly dim: number;
  readonly hidden: number;
  readonly spike1: BlockNeuron;
  readonly pwconv1: ConvBn;
  readonly spike2: BlockNeuron;
  readonly dwconv: ConvBn;
  readonly spike3: BlockNeuron;
  readonly pwconv2: ConvBn;

  constructor(opts: SpikingSepConvOptions) {
    super();
    const where = 'SpikingSepConv';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    const dim = checkPositiveInt(where, 'dim', opts.dim);
    const ratio = opts.expansionRatio ?? 2;
    const hidden = Math.trunc(ratio * dim); // torch: int(expansion_ratio * dim)
    if (!(typeof ratio === 'number' && ratio > 0 && hidden >= 1)) {
      throw new ConfigError(
        `${where}: expansionRatio must be > 0 with at least one hidden channel, got ${ratio}`,
      );
    }
    const k = checkPositiveInt(where, 'kernelSize', opts.kernelSize ?? 7);
    const padding = opts.padding ?? (k - 1) / 2;
    if (!Number.isInteger(padding) || padding < 0) {
      throw new ConfigError(`${where}: padding must be a non-negative integer, got ${padding} (kernel ${k})`);
    }
    const norm = checkNorm(where, opts.norm);
    const bias = opts.bias ?? false;
    const seed = (i: number) => (opts.seed === undefined ? {} : { seed: opts.seed + i });
    this.dim = dim;
    this.hidden = hidden;
    this.spike1 = this.child('spike1', makeNeuron(opts.neuron, 0, where));
    this.pwconv1 = this.child('pwconv1', new ConvBn(dim, hidden, { bias, norm, ...seed(0) }));
    this.spike2 = this.child('spike2', makeNeuron(opts.neuron, 0, where));
    this.dwconv = this.child(
      'dwconv',
      new ConvBn(hidden, hidden, { kernelSize: k, padding, groups: hidden, bias, norm, ...seed(1) }),
    );
    this.spike3 = this.child('spike3', makeNeuron(opts.neuron, 0, where));
    this.pwconv2 = this.child('pwconv2', new ConvBn(hidden, dim, { bias, norm, ...seed(2) }));
  }

  /** `[T, B, H, W, dim]` → `[T, B, H', W', dim]` (H' = H for the default "same" padding). */
  forward(x: tf.Tensor): tf.Tensor {
    const { t, b } = timeFirstDims(x, this.label, this.dim);
    let y = this.spike1.apply(x);
    y = splitTime(this.pwconv1.apply(mergeTime(y)), t, b);
    y = this.spike2.apply(y);
    y = splitTime(this.dwconv.apply(mergeTime(y)), t, b);
    y = this.spike3.apply(y);
    return splitTime(this.pwconv2.apply(mergeTime(y)), t, b);
  }
}
