import { ConfigError, Conv2d, type FrozenBatchNorm2d, type BatchNorm2d, Module } from '@spiketrack/neurons';
import type * as tf from '@tensorflow/tfjs-core';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  checkNorm,
  checkPositiveInt,
  makeNeuron,
  makeNorm2d,
  type NormKind,
} from './conv-bn';
import { mergeTime, splitTime, timeFirstDims } from './time';

/** Options of {@link SpikingDownsample}. */
export interface SpikingDownsampleOptions {
  inChannels: number;
  outChannels: number;
  /** Default 3. */
  kernelSize?: number;
  /** Default 2. */
  stride?: number;
  /** Default 1. */
  padding?: number;
  /**
   * The stem (default false): no neuron before the conv, so it takes analog input (the image).
   * Otherwise an NI-LIF (`encode_spike`) turns the input into spikes first.
   */
  firstLayer?: boolean;
  /** Normalization (default `'frozen'`). */
  norm?: NormKind;
  /** The neuron (default NI-LIF; see {@link BlockNeuronOptions}). */
  neuron?: BlockNeuronOptions;
  /** Seed of the conv's initialization. */
  seed?: number;
}

/**
 * The spiking downsampling layer of SDT-V3 (the reference's `MS_DownSampling`): NI-LIF (except
 * in the first layer) → strided conv with bias → BN.
 *
 * `[T, B, H, W, inChannels]` → `[T, B, H', W', outChannels]`. Children (state-dict keys):
 * `encode_conv`, `encode_bn`, and `encode_spike` unless `firstLayer`.
 */
export class SpikingDownsample extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly firstLayer: boolean;
  readonly encode_conv: Conv2d;
  readonly encode_bn: FrozenBatchNorm2d | BatchNorm2d;
  readonly encode_spike: BlockNeuron | null;

  constructor(opts: SpikingDownsampleOptions) {
    super();
    const where = 'SpikingDownsample';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    this.inChannels = checkPositiveInt(where, 'inChannels', opts.inChannels);
    this.outChannels = checkPositiveInt(where, 'outChannels', opts.outChannels);
    const first = opts.firstLayer ?? false;
    if (typeof first !== 'boolean') throw new ConfigError(`${where}: firstLayer must be a boolean`);
    this.firstLayer = first;
    this.encode_conv = this.child(
      'encode_conv',
      new Conv2d({
        inChannels: this.inChannels,
        outChannels: this.outChannels,
        kernelSize: opts.kernelSize ?? 3,
        stride: opts.stride ?? 2,
        padding: opts.padding ?? 1,
        bias: true,
        ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      }),
    );
    this.encode_bn = this.child('encode_bn', makeNorm2d(checkNorm(where, opts.norm), this.outChannels));
    this.encode_spike = first ? null : this.child('encode_spike', makeNeuron(opts.neuron, 0, where));
  }

  /** `[T, B, H, W, inChannels]` → `[T, B, H', W', outChannels]`. */
  forward(x: tf.Tensor): tf.Tensor {
    const { t, b } = timeFirstDims(x, this.label, this.inChannels);
    const s = this.encode_spike ? this.encode_spike.apply(x) : x;
    return splitTime(this.encode_bn.apply(this.encode_conv.apply(mergeTime(s))), t, b);
  }
}
