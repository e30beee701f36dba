import { type BatchNorm1d, ConfigError, Conv1d, type FrozenBatchNorm1d, Module } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  checkNorm,
  checkPositiveInt,
  makeNeuron,
  makeNorm1d,
  type NormKind,
} from './conv-bn';
import { timeFirstDims } from './time';

/** Options of {@link SpikingMLP}. */
export interface SpikingMLPOptions {
  /** Input channels. */
  inFeatures: number;
  /** Hidden channels (default `inFeatures`; the blocks use `mlpRatio · dim`). */
  hiddenFeatures?: number;
  /** Output channels (default `inFeatures`). */
  outFeatures?: number;
  /**
   * Normalization after each layer: `'frozen'` (FrozenBatchNorm1d, default, as in the backbone) or
   * `'batch'` (`nn.BatchNorm1d`, as in the memory retrieval modules).
   */
  norm?: NormKind;
  /** The two neurons (default NI-LIF; see {@link BlockNeuronOptions}). */
  neuron?: BlockNeuronOptions;
  /** Seed of the layers' initialization. */
  seed?: number;
}

/**
 * The spike-driven MLP of SDT-V3 (the reference's `MS_MLP`): NI-LIF → token-wise linear layer
 * (a kernel-1 Conv1d with bias) + BN → NI-LIF → Conv1d + BN. No residual (the block adds it).
 *
 * Input `[T, B, H, W, inFeatures]` → `[T, B, H, W, outFeatures]`. The Conv1d layers run on the
 * flattened tokens `[T·B, H·W, C]` (channels last; the reference's `[T·B, C, H·W]`).
 * Children (state-dict keys): `fc1_conv`, `fc1_spike`, `fc2_conv`, `fc2_spike`, `fc1_bn`, `fc2_bn`.
 */
export class SpikingMLP extends Module {
  readonly inFeatures: number;
  readonly hiddenFeatures: number;
  readonly outFeatures: number;
  readonly fc1_conv: Conv1d;
  readonly fc1_spike: BlockNeuron;
  readonly fc2_conv: Conv1d;
  readonly fc2_spike: BlockNeuron;
  readonly fc1_bn: FrozenBatchNorm1d | BatchNorm1d;
  readonly fc2_bn: FrozenBatchNorm1d | BatchNorm1d;

  constructor(opts: SpikingMLPOptions) {
    super();
    const where = 'SpikingMLP';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    this.inFeatures = checkPositiveInt(where, 'inFeatures', opts.inFeatures);
    this.hiddenFeatures = checkPositiveInt(where, 'hiddenFeatures', opts.hiddenFeatures ?? opts.inFeatures);
    this.outFeatures = checkPositiveInt(where, 'outFeatures', opts.outFeatures ?? opts.inFeatures);
    const norm = checkNorm(where, opts.norm);
    const seed = (i: number) => (opts.seed === undefined ? {} : { seed: opts.seed + i });
    this.fc1_conv = this.child(
      'fc1_conv',
      new Conv1d({
        inChannels: this.inFeatures,
        outChannels: this.hiddenFeatures,
        kernelSize: 1,
        ...seed(0),
      }),
    );
    this.fc1_spike = this.child('fc1_spike', makeNeuron(opts.neuron, 0, where));
    this.fc2_conv = this.child(
      'fc2_conv',
      new Conv1d({
        inChannels: this.hiddenFeatures,
        outChannels: this.outFeatures,
        kernelSize: 1,
        ...seed(1),
      }),
    );
    this.fc2_spike = this.child('fc2_spike', makeNeuron(opts.neuron, 0, where));
    this.fc1_bn = this.child('fc1_bn', makeNorm1d(norm, this.hiddenFeatures));
    this.fc2_bn = this.child('fc2_bn', makeNorm1d(norm, this.outFeatures));
  }

  /** `[T, B, H, W, inFeatures]` → `[T, B, H, W, outFeatures]`. */
  forward(x: tf.Tensor): tf.Tensor {
    const { t, b, h, w } = timeFirstDims(x, this.label, this.inFeatures);
    const tokens = (y: tf.Tensor, c: number) => tf.reshape(y, [t * b, h * w, c]);
    let y = this.fc1_spike.apply(x);
    y = this.fc1_bn.apply(this.fc1_conv.apply(tokens(y, this.inFeatures)));
    y = this.fc2_spike.apply(tf.reshape(y, [t, b, h, w, this.hiddenFeatures]));
    y = this.fc2_bn.apply(this.fc2_conv.apply(tokens(y, this.hiddenFeatures)));
    return tf.reshape(y, [t, b, h, w, this.outFeatures]);
  }
}
