import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../core/errors';
import { alif, ifNeuron, iLif, lif, plif, plifInitW } from '../neurons/functional';
import type { ResetMode } from '../neurons/common';
import { NI_LIF_DECAY_INIT, niLif } from '../neurons/ni-lif';
import {
  type SurrogateConfig,
  type SurrogateFn,
  type SurrogateName,
  surrogateFromConfig,
} from '../surrogates/surrogate';
import { SpikingLayer, type SpikingLayerArgs } from './spiking-layer';

type Serializable = tf.serialization.ConfigDict;

/** Firing options shared by the binary spiking layers. */
export interface FireLayerArgs extends SpikingLayerArgs {
  /** Threshold V_th (default 1). */
  vThreshold?: number;
  /** Learn V_th as a scalar weight `v_threshold` (default false). */
  learnThreshold?: boolean;
  /** `'hard'` (default), `'soft'` or `'none'`. */
  reset?: ResetMode;
  /** V_reset of the hard reset (default 0). */
  vReset?: number;
  /** Stop the gradient through the spike in the reset (default false). */
  detachReset?: boolean;
  /** Surrogate gradient: a name (`'atan'`, …, default `'sigmoid'`) or `{ name, params }`. */
  surrogate?: SurrogateName | SurrogateConfig;
}

function surrogateOf(layer: string, s: SurrogateName | SurrogateConfig | undefined): SurrogateFn {
  try {
    return surrogateFromConfig(s ?? { name: 'sigmoid', params: { alpha: 4 } });
  } catch (e) {
    throw new ConfigError(`${layer}: ${(e as Error).message}`);
  }
}

/** Binary neurons with a (optionally learnable) threshold and a surrogate. */
abstract class FireLayer extends SpikingLayer {
  protected readonly fire: Required<Omit<FireLayerArgs, keyof SpikingLayerArgs | 'surrogate'>> & {
    surrogate: SurrogateFn;
  };
  private threshold: tfl.LayerVariable | null = null;

  constructor(args: FireLayerArgs) {
    super(args);
    const name = this.getClassName();
    this.fire = {
      vThreshold: args.vThreshold ?? 1,
      learnThreshold: args.learnThreshold ?? false,
      reset: args.reset ?? 'hard',
      vReset: args.vReset ?? 0,
      detachReset: args.detachReset ?? false,
      surrogate: surrogateOf(name, args.surrogate),
    };
    if (!(this.fire.vThreshold > 0))
      throw new ConfigError(`${name}: vThreshold must be > 0, got ${args.vThreshold}`);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    if (this.fire.learnThreshold) {
      this.threshold = this.addWeight(
        'v_threshold',
        [],
        'float32',
        tfl.initializers.constant({ value: this.fire.vThreshold }),
      );
    }
    super.build(inputShape);
  }

  /** The options passed to the functional neuron. */
  protected fireOptions() {
    return {
      vThreshold: this.threshold ? this.threshold.read() : this.fire.vThreshold,
      reset: this.fire.reset,
      vReset: this.fire.vReset,
      detachReset: this.fire.detachReset,
      surrogate: this.fire.surrogate,
    };
  }

  override getConfig(): Serializable {
    return {
      ...super.getConfig(),
      vThreshold: this.fire.vThreshold,
      learnThreshold: this.fire.learnThreshold,
      reset: this.fire.reset,
      vReset: this.fire.vReset,
      detachReset: this.fire.detachReset,
      surrogate: this.fire.surrogate.config as unknown as Serializable,
    };
  }
}

/** Integrate-and-fire, `H_t = V_{t−1} + X_t`, as a tfjs-layers layer on `[B, T, …]`. */
export class SpikeIF extends FireLayer {
  static readonly className = 'SpikeIF';
  protected neuron(x: tf.Tensor): tf.Tensor {
    return ifNeuron(x, this.fireOptions());
  }
}

/** Options of {@link SpikeLIF}. */
export interface SpikeLIFArgs extends FireLayerArgs {
  /** Membrane time constant τ (default 2). With `learnableTau`, its initial value. */
  tau?: number;
  /** Whether the input is divided by τ too (default true). */
  decayInput?: boolean;
  /** Learn τ as in PLIF: `1/τ = sigmoid(w)`, a scalar weight `w` (default false). */
  learnableTau?: boolean;
}

/** Leaky integrate-and-fire (and PLIF with `learnableTau`), as a tfjs-layers layer on `[B, T, …]`. */
export class SpikeLIF extends FireLayer {
  static readonly className = 'SpikeLIF';
  private readonly tau: number;
  private readonly decayInput: boolean;
  private readonly learnableTau: boolean;
  private w: tfl.LayerVariable | null = null;

  constructor(args: SpikeLIFArgs = {}) {
    super(args);
    this.tau = args.tau ?? 2;
    this.decayInput = args.decayInput ?? true;
    this.learnableTau = args.learnableTau ?? false;
    if (!(this.tau > 1) && !(this.tau === 1 && !this.learnableTau)) {
      throw new ConfigError(`SpikeLIF: tau must be > 1 (>= 1 without learnableTau), got ${args.tau}`);
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    if (this.learnableTau) {
      this.w = this.addWeight('w', [], 'float32', tfl.initializers.constant({ value: plifInitW(this.tau) }));
    }
    super.build(inputShape);
  }

  protected neuron(x: tf.Tensor): tf.Tensor {
    const o = { ...this.fireOptions(), decayInput: this.decayInput };
    return this.w ? plif(x, this.w.read(), o) : lif(x, { ...o, tau: this.tau });
  }

  override getConfig(): Serializable {
    return {
      ...super.getConfig(),
      tau: this.tau,
      decayInput: this.decayInput,
      learnableTau: this.learnableTau,
    };
  }
}

/** Options of {@link SpikeALIF}. */
export interface SpikeALIFArgs extends FireLayerArgs {
  tau?: number;
  decayInput?: boolean;
  /** Adaptation time constant τ_a (default 20). */
  tauAdapt?: number;
  /** Adaptation strength β (default 1.8). */
  beta?: number;
}

/** Adaptive-threshold LIF (Bellec et al. 2018), as a tfjs-layers layer on `[B, T, …]`. */
export class SpikeALIF extends FireLayer {
  static readonly className = 'SpikeALIF';
  private readonly opts: Required<Pick<SpikeALIFArgs, 'tau' | 'decayInput' | 'tauAdapt' | 'beta'>>;

  constructor(args: SpikeALIFArgs = {}) {
    super({ reset: 'soft', ...args });
    this.opts = {
      tau: args.tau ?? 2,
      decayInput: args.decayInput ?? true,
      tauAdapt: args.tauAdapt ?? 20,
      beta: args.beta ?? 1.8,
    };
  }

  protected neuron(x: tf.Tensor): tf.Tensor {
    return alif(x, { ...this.fireOptions(), ...this.opts });
  }

  override getConfig(): Serializable {
    return { ...super.getConfig(), ...this.opts };
  }
}

/** Options of {@link SpikeILIF}. */
export interface SpikeILIFArgs extends SpikingLayerArgs {
  tau?: number;
  decayInput?: boolean;
  vThreshold?: number;
  /** Maximum spikes per step D (default 4). */
  levels?: number;
  detachReset?: boolean;
}

/** Integer LIF (up to D spikes per step, soft reset), as a tfjs-layers layer; outputs counts. */
export class SpikeILIF extends SpikingLayer {
  static readonly className = 'SpikeILIF';
  private readonly opts: Required<
    Pick<SpikeILIFArgs, 'tau' | 'decayInput' | 'vThreshold' | 'levels' | 'detachReset'>
  >;

  constructor(args: SpikeILIFArgs = {}) {
    super(args);
    this.opts = {
      tau: args.tau ?? 2,
      decayInput: args.decayInput ?? true,
      vThreshold: args.vThreshold ?? 1,
      levels: args.levels ?? 4,
      detachReset: args.detachReset ?? false,
    };
  }

  protected neuron(x: tf.Tensor): tf.Tensor {
    return iLif(x, this.opts);
  }

  override getConfig(): Serializable {
    return { ...super.getConfig(), ...this.opts };
  }
}

/** Options of {@link SpikeNILIF}. */
export interface SpikeNILIFArgs extends SpikingLayerArgs {
  /** Quantization levels D (default 4). */
  levels?: number;
  /** Most time steps supported: `maxSteps − 1` learnable decay logits (default 4, as the reference). */
  maxSteps?: number;
}

/**
 * SpikeTrack's NI-LIF (normalized integer spikes in {0, 1/D, …, 1}, learnable per-step decay
 * logits `decay`), as a tfjs-layers layer on `[B, T, …]`.
 */
export class SpikeNILIF extends SpikingLayer {
  static readonly className = 'SpikeNILIF';
  private readonly levels: number;
  private readonly maxSteps: number;
  private decay: tfl.LayerVariable | null = null;

  constructor(args: SpikeNILIFArgs = {}) {
    super(args);
    this.levels = args.levels ?? 4;
    this.maxSteps = args.maxSteps ?? 4;
    if (!Number.isInteger(this.maxSteps) || this.maxSteps < 2) {
      throw new ConfigError(`SpikeNILIF: maxSteps must be an integer >= 2, got ${args.maxSteps}`);
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.decay = this.addWeight(
      'decay',
      [this.maxSteps - 1],
      'float32',
      tfl.initializers.constant({ value: NI_LIF_DECAY_INIT }),
    );
    super.build(inputShape);
  }

  protected neuron(x: tf.Tensor): tf.Tensor {
    return niLif(x, this.decay!.read(), { levels: this.levels });
  }

  override getConfig(): Serializable {
    return { ...super.getConfig(), levels: this.levels, maxSteps: this.maxSteps };
  }
}

/** Every spiking layer class, registered for `model.save` / `tf.loadLayersModel` by `/layers`. */
export const SPIKING_LAYER_CLASSES = [SpikeIF, SpikeLIF, SpikeALIF, SpikeILIF, SpikeNILIF] as const;
