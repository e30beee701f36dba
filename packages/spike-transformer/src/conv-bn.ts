import {
  BatchNorm1d,
  BatchNorm2d,
  ConfigError,
  Conv2d,
  type Conv2dPadding,
  conv2dNhwc,
  FrozenBatchNorm1d,
  FrozenBatchNorm2d,
  FoldedWeightsCache,
  ILIF,
  LIF,
  NILIF,
  Sequential,
  type SurrogateFn,
} from '@spiketrack/neurons';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * Which normalization a block uses: `'frozen'` (FrozenBatchNorm, affine constants only, the
 * SDT-V3 backbone's choice) or `'batch'` (torch's `nn.BatchNorm`, trained with batch statistics,
 * running statistics in eval mode; the memory retrieval modules' choice).
 */
export type NormKind = 'frozen' | 'batch';

/** The spiking neuron models a block can use (see {@link BlockNeuronOptions.type}). */
export const BLOCK_NEURON_TYPES = ['ni-lif', 'lif', 'i-lif'] as const;

/** One of {@link BLOCK_NEURON_TYPES}. */
export type BlockNeuronType = (typeof BLOCK_NEURON_TYPES)[number];

/** A neuron module a block holds: {@link NILIF} (the default), {@link LIF} or {@link ILIF}. */
export type BlockNeuron = NILIF | LIF | ILIF;

/**
 * The neurons inside a block: which model, and its options. Every neuron of the block (and of the
 * blocks it builds) gets the same options. An option that the chosen model does not have is a
 * `ConfigError`.
 */
export interface BlockNeuronOptions {
  /**
   * The neuron model (default `'ni-lif'`, SpikeTrack's):
   * - `'ni-lif'`: {@link NILIF}, integer spikes normalized to `{0, 1/D, …, 1}` with learned decays
   *   (the reference; options `maxSteps`, `levels`);
   * - `'lif'`: {@link LIF}, binary spikes with a fixed leak and a surrogate gradient (options `tau`,
   *   `vThreshold`, `decayInput`, `surrogate`);
   * - `'i-lif'`: {@link ILIF}, integer spike counts `0…D` (not normalized) with a LIF membrane and a
   *   straight-through gradient (options `tau`, `vThreshold`, `decayInput`, `levels`).
   */
  type?: BlockNeuronType;
  /** NI-LIF: T_max (default 4, the reference's `mem_update(time_step=4)`): `T_max − 1` decay logits. */
  maxSteps?: number;
  /** NI-LIF and I-LIF: quantization levels D (default 4). */
  levels?: number;
  /** LIF and I-LIF: membrane time constant τ ≥ 1 (default 2). */
  tau?: number;
  /** LIF and I-LIF: firing threshold (default 1). */
  vThreshold?: number;
  /** LIF and I-LIF: whether the input is divided by τ too (default true, SpikingJelly's default). */
  decayInput?: boolean;
  /** LIF: the surrogate gradient of the firing (default `surrogate.sigmoid(4)`). */
  surrogate?: SurrogateFn;
}

const NEURON_OPTION_OF: Readonly<Record<BlockNeuronType, readonly string[]>> = {
  'ni-lif': ['maxSteps', 'levels'],
  lif: ['tau', 'vThreshold', 'decayInput', 'surrogate'],
  'i-lif': ['tau', 'vThreshold', 'decayInput', 'levels'],
};

/**
 * Checks block neuron options: an object (or undefined), a known `type`, and only the options of
 * that type. Returns the options with `type` filled in.
 */
export function checkBlockNeuron(
  where: string,
  opts: BlockNeuronOptions | undefined,
): BlockNeuronOptions & { type: BlockNeuronType } {
  if (opts === undefined) return { type: 'ni-lif' };
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ConfigError(`${where}: neuron must be an object of neuron options, got ${String(opts)}`);
  }
  const type = opts.type ?? 'ni-lif';
  if (!(BLOCK_NEURON_TYPES as readonly string[]).includes(type)) {
    throw new ConfigError(
      `${where}: neuron.type must be one of ${BLOCK_NEURON_TYPES.join(', ')}, got ${String(type)}`,
    );
  }
  const allowed = NEURON_OPTION_OF[type];
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'type' || v === undefined) continue;
    if (!allowed.includes(k)) {
      const owners = BLOCK_NEURON_TYPES.filter((t) => NEURON_OPTION_OF[t].includes(k));
      throw new ConfigError(
        owners.length
          ? `${where}: neuron.${k} is an option of ${owners.join(' and ')}, not of '${type}' (its options: ${allowed.join(', ')})`
          : `${where}: unknown neuron option '${k}' (the options of '${type}': ${allowed.join(', ')})`,
      );
    }
  }
  return { ...opts, type };
}

/**
 * A new neuron with the block's neuron options ({@link BlockNeuronOptions}; NI-LIF by default).
 * `timeAxis` is the axis the neuron scans (default 0, time first); `where` names the caller in errors.
 */
export function makeNeuron(opts: BlockNeuronOptions = {}, timeAxis = 0, where = 'makeNeuron'): BlockNeuron {
  const o = checkBlockNeuron(where, opts);
  const pick = <K extends keyof BlockNeuronOptions>(...keys: K[]) =>
    Object.fromEntries(keys.flatMap((k) => (o[k] === undefined ? [] : [[k, o[k]]]))) as Pick<
      BlockNeuronOptions,
      K
    >;
  const axis = timeAxis === 0 ? {} : { timeAxis };
  switch (o.type) {
    case 'lif':
      return new LIF({ ...pick('tau', 'vThreshold', 'decayInput', 'surrogate'), ...axis });
    case 'i-lif':
      return new ILIF({ ...pick('tau', 'vThreshold', 'decayInput', 'levels'), ...axis });
    default:
      return new NILIF({ maxSteps: o.maxSteps ?? 4, levels: o.levels ?? 4, ...axis });
  }
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
  /** The eval-mode weights with the norm folded in. */
  private readonly folded = new FoldedWeightsCache();

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
   * In eval mode the norm is folded into the conv (`W·scale`, `b·scale + shift`): one convolution
   * over the activations instead of a convolution, a multiply and an add. The folded weights are
   * kept while the weights and the norm's constants stay the same tensors (so the backend sees the
   * same filter every frame); under a gradient tape they are computed per call, so that gradients
   * still reach the weights. With the reference's exact
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
    const { weight, bias } = this.folded.get(this.conv, this.norm);
    return conv2dNhwc(x, weight, { ...this.conv.functionalOptions(), bias });
  }

  protected override onModeChange(): void {
    if (this.training) this.folded.clear();
    super.onModeChange();
  }

  protected override onStateLoaded(): void {
    this.folded.clear();
    super.onStateLoaded();
  }

  protected override onDispose(): void {
    this.folded.clear();
    super.onDispose();
  }
}
