import { ConfigError, Conv1d, formatShape, Module, Sequential, ShapeError } from '@spiketrack/neurons';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  makeNeuron,
  timeFirstDims,
} from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';
import { gridOf, optionsObject, positiveInt } from './checks';

/**
 * How {@link GateModule} scores the T timesteps:
 * - `'channel'`: one weight per (sample, channel) and timestep, from an MLP over the channel's
 *   spatial map (the reference's `channel_wise_gate`, the one SpikeTrack's retriever uses);
 * - `'point'`: one weight per (sample, position) and timestep, from an MLP over the channels at
 *   that position (`pixel_wise_gate`).
 */
export type GateMode = 'channel' | 'point';

/** Options of {@link GateModule}. */
export interface GateModuleOptions {
  /**
   * Channels of the input. Required in `'point'` mode (the MLP maps `dim → dim/2 → 1`); in
   * `'channel'` mode the MLP runs over space, so any channel count works, and `dim` is only checked
   * when given.
   */
  dim?: number;
  /** Default `'channel'`. */
  mode?: GateMode;
  /**
   * `'channel'` mode: the spatial grid the MLP reads, `gh·gw` inputs → `gh·gw/2` → 1 (default 16,
   * the reference's resolution 256; 24 for 384). A number for a square grid or `[rows, cols]`.
   */
  gridSize?: number | [number, number];
  /** The NI-LIF's T_max (default 4: 3 decay logits, the reference's `time_step=4`), so T ≤ maxSteps. */
  maxSteps?: number;
  /** Quantization levels D of the NI-LIF (default 4). */
  levels?: number;
  /**
   * The MLP's neuron, as the blocks of `@spiketrack/spike-transformer` take it (default NI-LIF;
   * e.g. `{ type: 'lif' }`). Give either this or `maxSteps` / `levels`, not both.
   */
  neuron?: BlockNeuronOptions;
  /** Seed of the layers' initialization. */
  seed?: number;
}

/**
 * SpikeTrack's temporal gate (`lib/models/spiketrack/fuc.py: GateModule`): fuses the T timesteps of
 * a spike tensor into one, `y = Σ_t x_t·softmax_t(logits)`. The logits come from a small spiking MLP
 * `mlp` = kernel-1 Conv1d → NI-LIF over T → kernel-1 Conv1d:
 * - `'channel'` mode: per (b, c), over the flattened spatial map (`H·W → H·W/2 → 1`);
 * - `'point'` mode: per (b, h, w), over the channels (`C → C/2 → 1`).
 *
 * Input `[T, B, H, W, C]` → `[B, H, W, C]`. Children (state-dict keys): `mlp.0` (Conv1d),
 * `mlp.1` (NILIF, key `mlp.1.decay`), `mlp.2` (Conv1d), as the reference.
 *
 * The NI-LIF runs over T explicitly (the reference infers its `[N, C, T]` layout from
 * `shape[0] > 3`, so it needs B·C > 3; here any shape works).
 */
export class GateModule extends Module {
  readonly mode: GateMode;
  /** Input channels (`'point'` mode, or `'channel'` mode when given), else `null`. */
  readonly dim: number | null;
  /** `'channel'` mode: the spatial grid `[rows, cols]` the MLP reads; `null` in `'point'` mode. */
  readonly grid: [number, number] | null;
  /** Input width of the MLP (`H·W` or `C`), hidden width is half of it (floored, as torch's `//`). */
  readonly mlpInFeatures: number;
  readonly mlp: Sequential;
  /** The neuron inside the MLP (`mlp.1`; NI-LIF unless `neuron` says otherwise). */
  readonly spike: BlockNeuron;

  constructor(opts: GateModuleOptions = {}) {
    super();
    const where = 'GateModule';
    optionsObject(where, opts);
    const mode = opts.mode ?? 'channel';
    if (mode !== 'channel' && mode !== 'point') {
      throw new ConfigError(`${where}: mode must be 'channel' or 'point', got ${String(mode)}`);
    }
    this.mode = mode;
    if (mode === 'point' && opts.dim === undefined) {
      throw new ConfigError(`${where}: 'point' mode needs dim (the channels the MLP reads)`);
    }
    this.dim = opts.dim === undefined ? null : positiveInt(where, 'dim', opts.dim);
    this.grid = mode === 'channel' ? gridOf(where, opts.gridSize ?? 16) : null;
    const inF = mode === 'channel' ? this.grid![0] * this.grid![1] : this.dim!;
    const hidden = Math.floor(inF / 2);
    if (hidden < 1) {
      throw new ConfigError(
        `${where}: the MLP's hidden width ${inF}/2 is below 1 (${mode === 'channel' ? 'grid' : 'dim'} too small)`,
      );
    }
    this.mlpInFeatures = inF;
    const seed = (i: number) => (opts.seed === undefined ? {} : { seed: opts.seed + i });
    // In our channels-last layout the MLP sees [N, T, features]: the time axis of the NI-LIF is 1.
    if (opts.neuron !== undefined && (opts.maxSteps !== undefined || opts.levels !== undefined)) {
      throw new ConfigError(`${where}: give neuron or maxSteps / levels, not both`);
    }
    const neuron = opts.neuron ?? {
      ...(opts.maxSteps === undefined ? {} : { maxSteps: opts.maxSteps }),
      ...(opts.levels === undefined ? {} : { levels: opts.levels }),
    };
    this.spike = makeNeuron(neuron, 1, where);
    this.mlp = this.child(
      'mlp',
      new Sequential(
        new Conv1d({ inChannels: inF, outChannels: hidden, kernelSize: 1, ...seed(0) }),
        this.spike,
        new Conv1d({ inChannels: hidden, outChannels: 1, kernelSize: 1, ...seed(1) }),
      ),
    );
  }

  private check(x: tf.Tensor): { t: number; b: number; h: number; w: number; c: number } {
    const d = timeFirstDims(x, this.label, this.dim ?? undefined);
    if (this.grid && d.h * d.w !== this.mlpInFeatures) {
      throw new ShapeError(
        `${this.label}: channel mode reads ${this.grid[0]}×${this.grid[1]} = ${this.mlpInFeatures} positions, but the input ${formatShape(x.shape)} has H·W = ${d.h * d.w}`,
      );
    }
    return d;
  }

  private logitsOf(x: tf.Tensor, d: { t: number; b: number; h: number; w: number; c: number }): tf.Tensor {
    const { t, b, h, w, c } = d;
    if (this.mode === 'channel') {
      // [T, B, H, W, C] → [B, C, T, H, W] → [B·C, T, H·W]; logits [B·C, T, 1] → [B, C, T]
      const tokens = tf.reshape(tf.transpose(x, [1, 4, 0, 2, 3]), [b * c, t, h * w]);
      return tf.reshape(this.mlp.apply(tokens), [b, c, t]);
    }
    // [T, B, H, W, C] → [B, H, W, T, C] → [B·H·W, T, C]; logits [B·H·W, T, 1] → [B, H, W, T]
    const tokens = tf.reshape(tf.transpose(x, [1, 2, 3, 0, 4]), [b * h * w, t, c]);
    return tf.reshape(this.mlp.apply(tokens), [b, h, w, t]);
  }

  /**
   * The gate logits before the softmax: `[B, C, T]` in `'channel'` mode (the reference's
   * `mlp(x_flat)` `[B·C, 1, T]`), `[B, H, W, T]` in `'point'` mode (its `[B·H·W, 1, T]`). Tidy.
   */
  gateLogits(x: tf.Tensor): tf.Tensor {
    this.assertAlive();
    const d = this.check(x);
    return tf.tidy(() => this.logitsOf(x, d));
  }

  /**
   * The softmax weights over T, broadcastable against `[T, B, H, W, C]`: `[T, B, 1, 1, C]`
   * (`'channel'`) or `[T, B, H, W, 1]` (`'point'`). Tidy.
   */
  gateWeights(x: tf.Tensor): tf.Tensor {
    this.assertAlive();
    const d = this.check(x);
    return tf.tidy(() => this.weightsOf(x, d));
  }

  private weightsOf(x: tf.Tensor, d: { t: number; b: number; h: number; w: number; c: number }): tf.Tensor {
    const p = tf.softmax(this.logitsOf(x, d)); // over the last axis, T
    return this.mode === 'channel'
      ? tf.reshape(tf.transpose(p, [2, 0, 1]), [d.t, d.b, 1, 1, d.c])
      : tf.expandDims(tf.transpose(p, [3, 0, 1, 2]), 4);
  }

  /** `[T, B, H, W, C]` → `Σ_t x_t·w_t`: `[B, H, W, C]`. */
  forward(x: tf.Tensor): tf.Tensor {
    const d = this.check(x);
    // the sum over T as T − 1 additions in order (((x₀w₀ + x₁w₁) + x₂w₂)…): tf.sum over the leading
    // axis transposes T to the end first, which costs wasm more than the products themselves
    const terms = tf.unstack(tf.mul(x, this.weightsOf(x, d)), 0);
    return terms.slice(1).reduce((acc, t) => tf.add(acc, t), terms[0]!);
  }
}
