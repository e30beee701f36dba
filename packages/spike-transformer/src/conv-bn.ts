import {
  BatchNorm1d,
  BatchNorm2d,
  ConfigError,
  Conv2d,
  type Conv2dPadding,
  conv2dNhwc,
  FrozenBatchNorm1d,
  FrozenBatchNorm2d,
  foldBatchNorm,
  NILIF,
  Sequential,
} from '@spiketrack/neurons';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * Which normalization a block uses: `'frozen'` (FrozenBatchNorm, affine constants only, the
 * SDT-V3 backbone's choice) or `'batch'` (torch's `nn.BatchNorm`, trained with batch statistics,
 * running statistics in eval mode; the memory retrieval modules' choice).
 */
export type NormKind = 'frozen' | 'batch';

/** Options of the NI-LIF neurons inside a block. */
export interface BlockNeuronOptions {
  /** T_max of every NI-LIF (default 4, the reference's `mem_update(time_step=4)`): `T_max − 1` decay logits. */
  maxSteps?: number;
  /** Quantization levels D (default 4). */
  levels?: number;
}

/** Checks a {@link NormKind}. */
export function checkNorm(where: string, norm: unknown): NormKind {
  const n = norm ?? 'frozen';
  if (n !== 'frozen' && n !== 'batch') {
    throw new ConfigError(`${where}: norm must be 'frozen' or 'batch', got ${String(norm)}`);
  }
  return n;
}

/** Checks that `v` is a positive integer (a channel count, a head count, …). */
export function checkPositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** A new NI-LIF neuron with the block's neuron options. */
export function makeNeuron(opts: BlockNeuronOptions = {}): NILIF {
  return new NILIF({ maxSteps: opts.maxSteps ?? 4, levels: opts.levels ?? 4 });
}

/** A 2-D normalization layer of the given kind. */
export function makeNorm2d(kind: NormKind, channels: number): FrozenBatchNorm2d | BatchNorm2d {
  return kind === 'frozen' ? new FrozenBatchNorm2d(channels) : new BatchNorm2d(channels);
}

/** A 1-D normalization layer (on `[N, L, C]`) of the given kind. */
export function makeNorm1d(kind: NormKind, channels: number): FrozenBatchNorm1d | BatchNorm1d {
  return kind === 'frozen' ? new FrozenBatchNorm1d(channels) : new BatchNorm1d(channels);
}

/** Options of {@link ConvBn}. */
export interface ConvBnOptions {
  /** Default 1. */
  kernelSize?: number;
  /** Default 1. */
  stride?: number;
  /** Default 0. */
  padding?: Conv2dPadding;
  /** Default 1; `groups = inChannels` is a depthwise conv. */
  groups?: number;
  /** Conv bias (default false, as the reference's `make_conv_layer`). */
  bias?: boolean;
  /** Normalization (default `'frozen'`). */
  norm?: NormKind;
  /** Seed of the conv's initialization. */
  seed?: number;
}

/**
 * A convolution followed by a batch norm, as the reference's `make_conv_layer` (an
 * `nn.Sequential(nn.Conv2d(…, bias=False), norm(out))`): children `0` (the conv) and `1` (the
 * norm), so the state-dict keys read `q_conv.0.weight`, `q_conv.1.running_var`. Input
 * `[N, H, W, inChannels]` → `[N, H', W', outChannels]`.
 */
export class ConvBn extends Sequential {
  /** The convolution (child `0`). */
  readonly conv: Conv2d;
  /** The normalization (child `1`). */
  readonly norm: FrozenBatchNorm2d | BatchNorm2d;

  constructor(inChannels: number, outChannels: number, opts: ConvBnOptions = {}) {
    const conv = new Conv2d({
      inChannels,
      outChannels,
      kernelSize: opts.kernelSize ?? 1,
      stride: opts.stride ?? 1,
      padding: opts.padding ?? 0,
      groups: opts.groups ?? 1,
      bias: opts.bias ?? false,
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
    });
    const norm = makeNorm2d(checkNorm('ConvBn', opts.norm), outChannels);
    super(conv, norm);
    this.conv = conv;
    this.norm = norm;
  }

  /**
   * In eval mode the norm is folded into the conv (`W·scale`, `b·scale + shift`, computed per call
   * from the current weights, so gradients still reach them): one convolution over the
   * activations instead of a convolution, a multiply and an add. With the reference's exact
   * fixtures the result is bit-identical (the products are exact); elsewhere it differs by float32
   * rounding. In training mode, or while the children have forward hooks to feed, it runs them one
   * by one.
   */
  override forward(x: tf.Tensor): tf.Tensor {
    const norm = this.norm as { training: boolean; trackRunningStats?: boolean };
    if (
      this.training ||
      norm.training ||
      norm.trackRunningStats === false ||
      this.conv.hasForwardHooks ||
      this.norm.hasForwardHooks
    ) {
      return super.forward(x);
    }
    const { weight, bias } = foldBatchNorm(this.conv, this.norm);
    return conv2dNhwc(x, weight, { ...this.conv.functionalOptions(), bias });
  }
}
