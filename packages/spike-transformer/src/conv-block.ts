import { type BatchNorm2d, ConfigError, Conv2d, type FrozenBatchNorm2d, Module } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  checkNorm,
  checkPositiveInt,
  makeNeuron,
  makeNorm2d,
  type NormKind,
} from './conv-bn';
import { SpikingSepConv } from './sep-conv';
import { mergeTime, splitTime, timeFirstDims } from './time';

/** Options of {@link SpikingConvBlock}. */
export interface SpikingConvBlockOptions {
  /** Channels of the input and output. */
  dim: number;
  /** Hidden channels of the 3×3 convs = `mlpRatio · dim` (default 4; the product must be an integer). */
  mlpRatio?: number;
  /** Depthwise kernel of the separable conv (default 7). */
  sepKernelSize?: number;
  /** Normalization after each conv (default `'frozen'`). */
  norm?: NormKind;
  /** The neurons (default NI-LIF; see {@link BlockNeuronOptions}). */
  neuron?: BlockNeuronOptions;
  /** Seed of the convs' initialization. */
  seed?: number;
}

/**
 * The convolutional block of SDT-V3 (the reference's `MS_ConvBlock_spike_SepConv`):
 * `x = x + SepConv(x)` (kernel 7), then `x = x + BN(conv3×3(NI-LIF(BN(conv3×3(NI-LIF(x))))))`,
 * with the hidden conv at `mlpRatio · dim` channels.
 *
 * Input and output `[T, B, H, W, dim]`. Children (state-dict keys): `Conv` (a
 * {@link SpikingSepConv}), `spike1`, `conv1`, `bn1`, `spike2`, `conv2`, `bn2`.
 */
export class SpikingConvBlock extends Module {
  readonly dim: number;
  readonly hidden: number;
  readonly Conv: SpikingSepConv;
  readonly spike1: BlockNeuron;
  readonly conv1: Conv2d;
  readonly bn1: FrozenBatchNorm2d | BatchNorm2d;
  readonly spike2: BlockNeuron;
  readonly conv2: Conv2d;
  readonly bn2: FrozenBatchNorm2d | BatchNorm2d;

  constructor(opts: SpikingConvBlockOptions) {
    super();
    const where = 'SpikingConvBlock';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    const dim = checkPositiveInt(where, 'dim', opts.dim);
    const ratio = opts.mlpRatio ?? 4;
    const hidden = dim * ratio;
    if (!Number.isInteger(hidden) || hidden < 1) {
      throw new ConfigError(
        `${where}: mlpRatio · dim must be a positive integer, got ${String(ratio)} · ${dim}`,
      );
    }
    const norm = checkNorm(where, opts.norm);
    const seed = (i: number) => (opts.seed === undefined ? {} : { seed: opts.seed + i });
    this.dim = dim;
    this.hidden = hidden;
    this.Conv = this.child(
      'Conv',
      new SpikingSepConv({
        dim,
        kernelSize: opts.sepKernelSize ?? 7,
        norm,
        ...(opts.neuron ? { neuron: opts.neuron } : {}),
        ...seed(0),
      }),
    );
    this.spike1 = this.child('spike1', makeNeuron(opts.neuron, 0, where));
    this.conv1 = this.child(
      'conv1',
      new Conv2d({
        inChannels: dim,
        outChannels: hidden,
        kernelSize: 3,
        padding: 1,
        bias: false,
        ...seed(10),
      }),
    );
    this.bn1 = this.child('bn1', makeNorm2d(norm, hidden));
    this.spike2 = this.child('spike2', makeNeuron(opts.neuron, 0, where));
    this.conv2 = this.child(
      'conv2',
      new Conv2d({
        inChannels: hidden,
        outChannels: dim,
        kernelSize: 3,
        padding: 1,
        bias: false,
        ...seed(11),
      }),
    );
    this.bn2 = this.child('bn2', makeNorm2d(norm, dim));
  }

  /** `[T, B, H, W, dim]` → `[T, B, H, W, dim]`. */
  forward(x: tf.Tensor): tf.Tensor {
    const { t, b } = timeFirstDims(x, this.label, this.dim);
    const feat = tf.add(this.Conv.apply(x), x);
    let y = this.spike1.apply(feat);
    y = splitTime(this.bn1.apply(this.conv1.apply(mergeTime(y))), t, b);
    y = this.spike2.apply(y);
    y = splitTime(this.bn2.apply(this.conv2.apply(mergeTime(y))), t, b);
    return tf.add(feat, y);
  }
}
