import { ConfigError, Module, ModuleList } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { type Branch, checkBranch } from './attention';
import {
  type BlockNeuronOptions,
  checkBlockNeuron,
  checkNorm,
  checkPositiveInt,
  type NormKind,
} from './conv-bn';
import { SpikingConvBlock } from './conv-block';
import { SpikingDownsample } from './downsample';
import { timeFirstDims } from './time';
import { SpikingTransformerBlock } from './transformer-block';

/** Channel widths `[c0, c1, c2, c3]` of the named E-SpikeFormer sizes (the reference's `_t`, `_s`, `_m`, `_l`). */
export const E_SPIKEFORMER_PRESETS = {
  tiny: [24, 48, 96, 128],
  small: [32, 64, 128, 192],
  medium: [48, 96, 192, 240],
  base: [64, 128, 256, 360],
} as const satisfies Record<string, readonly [number, number, number, number]>;

/** A named E-SpikeFormer size. */
export type ESpikeFormerPreset = keyof typeof E_SPIKEFORMER_PRESETS;

/** Options of {@link ESpikeFormer}. */
export interface ESpikeFormerOptions {
  /** A named size (default `'tiny'`); `dims` overrides it. */
  preset?: ESpikeFormerPreset;
  /** Channel widths `[c0, c1, c2, c3]` (c0 even: stage 1 starts at c0/2). */
  dims?: readonly [number, number, number, number];
  /** Attention heads of every transformer block (default 8; must divide c2 and c3). */
  numHeads?: number;
  /** MLP / conv-block expansion (default 4). */
  mlpRatio?: number;
  /** Image channels (default 3). */
  inChannels?: number;
  /**
   * The search crop size R (default 256; a multiple of 16). Stages 3 and 4 run at R/16 × R/16,
   * the size their positional embeddings cover, and templates must be the same size.
   */
  resolution?: number;
  /** Template positional embeddings per attention (default 4, as the reference). */
  templateEmbeds?: number;
  /**
   * Transformer blocks in stages 3 and 4, `[d3, d4]` (default `[6, 2]`, E-SpikeFormer's: the
   * reference's `depths = 8` split ¾ / ¼). Fewer blocks give a shallower backbone; `0` keeps the
   * stage's downsampling layer only. Stages 1 and 2 always have their two conv blocks.
   */
  depths?: readonly [number, number];
  /** Normalization (default `'frozen'`, as the reference backbone). */
  norm?: NormKind;
  /** Every neuron of the backbone (default NI-LIF, the reference; `{ type: 'lif' }` or `'i-lif'` for others, see {@link BlockNeuronOptions}). */
  neuron?: BlockNeuronOptions;
  /** Seed of the layers' initialization. */
  seed?: number;
}

/** The number of backbone segments, i.e. of memory-retrieval points (see {@link ESpikeFormer.segment}). */
export const E_SPIKEFORMER_SEGMENTS = 6;

/** The stage (index into `dims`) each segment ends in. */
const SEGMENT_STAGE = [0, 1, 2, 2, 3, 3] as const;

/** E-SpikeFormer's transformer blocks in stages 3 and 4. */
export const E_SPIKEFORMER_DEPTHS = [6, 2] as const satisfies readonly [number, number];

/**
 * The Spike-Driven Transformer V3 backbone (E-SpikeFormer, the reference's
 * `Spiking_vit_MetaFormer_Spike_SepConv` without its `mrm` memory-retrieval modules):
 *
 * | stage | layers | channels | stride |
 * |---|---|---|---|
 * | 1 | `downsample1_1` (7×7/2, no neuron), `ConvBlock1_1.0`, `downsample1_2` (3×3/2), `ConvBlock1_2.0` | c0/2, c0 | 4 |
 * | 2 | `downsample2` (3×3/2), `ConvBlock2_1.0`, `ConvBlock2_2.0` | c1 | 8 |
 * | 3 | `downsample3` (3×3/2), `block3.0` … `block3.5` | c2 | 16 |
 * | 4 | `downsample4` (3×3/1), `block4.0`, `block4.1` | c3 | 16 |
 *
 * (`depths: [d3, d4]` changes the number of transformer blocks in stages 3 and 4.)
 *
 * Input: images `[T, B, R, R, inChannels]` (time first: T templates, or the single search frame);
 * output `[T, B, R/16, R/16, c3]`. State-dict keys equal the reference's `encoder.*` keys (minus
 * `encoder.` and `mrm.*`) in torch layout.
 *
 * SpikeTrack inserts a memory-retrieval module at six points; {@link segment} runs the backbone
 * between them, so `forward(x, b)` is `segment(5, … segment(0, x, b) …, b)`.
 */
export class ESpikeFormer extends Module<[tf.Tensor, Branch], tf.Tensor> {
  /** Channel widths `[c0, c1, c2, c3]`. */
  readonly dims: readonly [number, number, number, number];
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly inChannels: number;
  readonly resolution: number;
  /** Transformer blocks in stages 3 and 4. */
  readonly depths: readonly [number, number];
  /** Where stage 3 is cut between segments 3 and 4: after `block3[stage3Split − 1]` (`ceil(d3 / 2)`). */
  readonly stage3Split: number;
  readonly downsample1_1: SpikingDownsample;
  readonly ConvBlock1_1: ModuleList<SpikingConvBlock>;
  readonly downsample1_2: SpikingDownsample;
  readonly ConvBlock1_2: ModuleList<SpikingConvBlock>;
  readonly downsample2: SpikingDownsample;
  readonly ConvBlock2_1: ModuleList<SpikingConvBlock>;
  readonly ConvBlock2_2: ModuleList<SpikingConvBlock>;
  readonly downsample3: SpikingDownsample;
  readonly block3: ModuleList<SpikingTransformerBlock>;
  readonly downsample4: SpikingDownsample;
  readonly block4: ModuleList<SpikingTransformerBlock>;

  constructor(opts: ESpikeFormerOptions = {}) {
    super();
    const where = 'ESpikeFormer';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    const preset = opts.preset ?? 'tiny';
    if (!opts.dims && !Object.hasOwn(E_SPIKEFORMER_PRESETS, preset)) {
      throw new ConfigError(
        `${where}: unknown preset '${String(preset)}' (expected one of ${Object.keys(E_SPIKEFORMER_PRESETS).join(', ')})`,
      );
    }
    const dims = opts.dims ?? E_SPIKEFORMER_PRESETS[preset];
    if (!Array.isArray(dims) || dims.length !== 4) {
      throw new ConfigError(`${where}: dims must be [c0, c1, c2, c3], got ${JSON.stringify(dims)}`);
    }
    for (const [i, d] of dims.entries()) checkPositiveInt(where, `dims[${i}]`, d);
    if (dims[0] % 2 !== 0)
      throw new ConfigError(`${where}: dims[0] must be even (stage 1 starts at c0/2), got ${dims[0]}`);
    const heads = checkPositiveInt(where, 'numHeads', opts.numHeads ?? 8);
    for (const c of [dims[2], dims[3]]) {
      if (c % heads !== 0)
        throw new ConfigError(`${where}: numHeads ${heads} must divide the channels ${c} of stages 3 and 4`);
    }
    const ratio = opts.mlpRatio ?? 4;
    const inChannels = checkPositiveInt(where, 'inChannels', opts.inChannels ?? 3);
    const resolution = checkPositiveInt(where, 'resolution', opts.resolution ?? 256);
    if (resolution % 16 !== 0)
      throw new ConfigError(`${where}: resolution must be a multiple of 16, got ${resolution}`);
    const norm = checkNorm(where, opts.norm);
    checkBlockNeuron(where, opts.neuron);
    const depths = opts.depths ?? E_SPIKEFORMER_DEPTHS;
    if (
      !Array.isArray(depths) ||
      depths.length !== 2 ||
      !depths.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)
    ) {
      throw new ConfigError(
        `${where}: depths must be [d3, d4], the transformer blocks of stages 3 and 4 (integers >= 0), got ${JSON.stringify(depths)}`,
      );
    }
    this.depths = [depths[0], depths[1]];
    this.stage3Split = Math.ceil(depths[0] / 2);
    this.dims = [dims[0], dims[1], dims[2], dims[3]];
    this.numHeads = heads;
    this.mlpRatio = ratio;
    this.inChannels = inChannels;
    this.resolution = resolution;

    let s = opts.seed ?? null;
    const common = { norm, ...(opts.neuron ? { neuron: opts.neuron } : {}) };
    const next = () => {
      if (s === null) return {};
      s += 100;
      return { seed: s };
    };
    const down = (inC: number, outC: number, k: number, stride: number, first = false) =>
      new SpikingDownsample({
        inChannels: inC,
        outChannels: outC,
        kernelSize: k,
        stride,
        padding: (k - 1) / 2,
        firstLayer: first,
        ...common,
        ...next(),
      });
    const convBlocks = (dim: number) =>
      new ModuleList([new SpikingConvBlock({ dim, mlpRatio: ratio, ...common, ...next() })]);
    const blocks = (dim: number, n: number) =>
      new ModuleList(
        Array.from(
          { length: n },
          () =>
            new SpikingTransformerBlock({
              dim,
              numHeads: heads,
              mlpRatio: ratio,
              gridSize: resolution / 16,
              ...(opts.templateEmbeds === undefined ? {} : { templateEmbeds: opts.templateEmbeds }),
              ...common,
              ...next(),
            }),
        ),
      );
    const [c0, c1, c2, c3] = this.dims;
    this.downsample1_1 = this.child('downsample1_1', down(inChannels, c0 / 2, 7, 2, true));
    this.ConvBlock1_1 = this.child('ConvBlock1_1', convBlocks(c0 / 2));
    this.downsample1_2 = this.child('downsample1_2', down(c0 / 2, c0, 3, 2));
    this.ConvBlock1_2 = this.child('ConvBlock1_2', convBlocks(c0));
    this.downsample2 = this.child('downsample2', down(c0, c1, 3, 2));
    this.ConvBlock2_1 = this.child('ConvBlock2_1', convBlocks(c1));
    this.ConvBlock2_2 = this.child('ConvBlock2_2', convBlocks(c1));
    this.downsample3 = this.child('downsample3', down(c1, c2, 3, 2));
    this.block3 = this.child('block3', blocks(c2, this.depths[0]));
    this.downsample4 = this.child('downsample4', down(c2, c3, 3, 1));
    this.block4 = this.child('block4', blocks(c3, this.depths[1]));
  }

  /** Channels of the output of segment `i` (the width each memory-retrieval module works at). */
  segmentChannels(i: number): number {
    this.checkSegment(i);
    const stage = SEGMENT_STAGE[i] ?? 3;
    return this.dims[stage];
  }

  /** Input channels of segment `i`. */
  segmentInputChannels(i: number): number {
    this.checkSegment(i);
    return i === 0 ? this.inChannels : this.segmentChannels(i - 1);
  }

  private checkSegment(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= E_SPIKEFORMER_SEGMENTS) {
      throw new ConfigError(
        `${this.label}: segment must be an integer in [0, ${E_SPIKEFORMER_SEGMENTS - 1}], got ${String(i)}`,
      );
    }
  }

  /**
   * Runs the backbone from memory-retrieval point `i − 1` to point `i` (tidy):
   *
   * 0. `downsample1_1`, `ConvBlock1_1`, `downsample1_2` (→ stride 4, c0)
   * 1. `ConvBlock1_2`, `downsample2` (→ stride 8, c1)
   * 2. `ConvBlock2_1`, `ConvBlock2_2`, `downsample3` (→ stride 16, c2)
   * 3. `block3.0`–`block3.2`
   * 4. `block3.3`–`block3.5`, `downsample4` (→ c3)
   * 5. `block4.0`, `block4.1`
   *
   * With other {@link depths}, segment 3 runs the first {@link stage3Split} blocks of stage 3,
   * segment 4 the rest and `downsample4`, segment 5 every block of stage 4 (a segment without
   * blocks returns its input). The reference applies `mrm[i]` to the search features after segment i.
   */
  segment(i: number, x: tf.Tensor, branch: Branch): tf.Tensor {
    this.assertAlive();
    this.checkSegment(i);
    const br = checkBranch(this.label, branch);
    timeFirstDims(x, `${this.label} segment ${i}`, this.segmentInputChannels(i));
    return tf.tidy(() => this.runSegment(i, x, br));
  }

  private runSegment(i: number, x: tf.Tensor, branch: Branch): tf.Tensor {
    const conv = (l: ModuleList<SpikingConvBlock>, y: tf.Tensor) => {
      let z = y;
      for (const m of l) z = m.apply(z);
      return z;
    };
    const trans = (from: number, to: number, l: ModuleList<SpikingTransformerBlock>, y: tf.Tensor) => {
      let z = y;
      for (let j = from; j < to; j++) z = l.at(j).apply(z, branch);
      return z;
    };
    switch (i) {
      case 0:
        return this.downsample1_2.apply(conv(this.ConvBlock1_1, this.downsample1_1.apply(x)));
      case 1:
        return this.downsample2.apply(conv(this.ConvBlock1_2, x));
      case 2:
        return this.downsample3.apply(conv(this.ConvBlock2_2, conv(this.ConvBlock2_1, x)));
      case 3:
        return trans(0, this.stage3Split, this.block3, x);
      case 4:
        return this.downsample4.apply(trans(this.stage3Split, this.block3.length, this.block3, x));
      default:
        return trans(0, this.block4.length, this.block4, x);
    }
  }

  /** `[T, B, R, R, inChannels]` → `[T, B, R/16, R/16, c3]`: every segment, without memory retrieval. */
  forward(x: tf.Tensor, branch: Branch): tf.Tensor {
    let y = x;
    for (let i = 0; i < E_SPIKEFORMER_SEGMENTS; i++) y = this.runSegment(i, y, branch);
    return y;
  }
}
