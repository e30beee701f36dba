import {
  adaptiveAvgPool2d,
  ConfigError,
  formatShape,
  Module,
  ModuleList,
  ParameterList,
  resizeBilinear,
  ShapeError,
} from '@spiketrack/neurons';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  ConvBn,
  checkBlockNeuron,
  linearAttentionMemory,
  makeNeuron,
  mergeTime,
  queryLinearAttention,
  splitTime,
  timeFirstDims,
} from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';
import { gridOf, optionsObject, positiveInt, tensorArg } from './checks';
import { GateModule } from './gate';
import { TemplateMemory } from './template-memory';

/**
 * The neurons of a {@link Retriever} (the gate's included): the block neuron options of
 * `@spiketrack/spike-transformer`. NI-LIF by default (the reference's; `maxSteps`, default 4, is
 * then the most templates a memory may hold, and raising it changes the decay shapes from the
 * reference's `[3]`), or `{ type: 'lif' | 'i-lif', … }`, which bound no template count.
 */
export type RetrieverNeuronOptions = BlockNeuronOptions;

/** Options of {@link Retriever}. */
export interface RetrieverOptions {
  /** Channels C of the search and template features. */
  dim: number;
  /** Heads of the attention (default 8); must divide `dim` and `lamdaRatio·dim`. */
  numHeads?: number;
  /** Values are expanded to `Cv = lamdaRatio·dim` channels (default 4). */
  lamdaRatio?: number;
  /**
   * The reference's `temp_num` (default 1): the number of per-timestep responders
   * (`seg_responder_dw.i`, `seg_responder_pw.i`), so the most templates a memory may hold.
   */
  numTemplates?: number;
  /**
   * The token grid the attention runs on (default 16 = 256/16; 24 for resolution 384), a number or
   * `[rows, cols]`: the positional embeddings have `rows·cols` tokens, the gate's MLP reads
   * `rows·cols` inputs. Inputs of another size are average-pooled to it, and the output is resized
   * back bilinearly.
   */
  gridSize?: number | [number, number];
  /** Template positional embeddings `t_pos_embeds` (default 4); template t uses `min(t, n − 1)`. */
  templateEmbeds?: number;
  /** The neurons (the gate's included; default NI-LIF, see {@link RetrieverNeuronOptions}). */
  neuron?: RetrieverNeuronOptions;
  /** Seed of the layers' initialization. */
  seed?: number;
}

/**
 * SpikeTrack's memory retriever (`lib/models/spiketrack/sdtv3.py: Retriever`), in the one-way
 * template → search flow:
 *
 * - {@link memorize}: the templates `[T, B, H, W, C]` (T timesteps) are pooled to the grid, get
 *   `t_pos_embeds[t]`, an NI-LIF, 1×1 conv + BN to k (`C`) and v (`Cv`), NI-LIFs, and become the
 *   memory `kv = kᵀ·v` per template and head ({@link TemplateMemory}).
 * - {@link retrieve}: the search `[1, B, H, W, C]` is pooled, gets `s_pos_embed`, an NI-LIF and
 *   1×1 conv + BN (`q_conv`, also the shortcut). Its query, repeated over the T templates, reads the
 *   memory (`q·kv·scale·2`); the result is refined once: NI-LIF, per-timestep depthwise 3×3 +
 *   BN (`seg_responder_dw.t`), NI-LIF, per-timestep 1×1 + BN (`seg_responder_pw.t`), + shortcut,
 *   NI-LIF, `fuser` 1×1 + BN, NI-LIF, and a second read of the memory. Then NI-LIF (`attn_spike`),
 *   for T > 1 the channel gate over T ({@link GateModule}) and `gate_spike`, `proj_conv` 1×1 + BN
 *   back to C, and a bilinear resize to the search's size.
 * - `apply(templates, search)` is `retrieve(search, memorize(templates))`.
 *
 * Output `[1, B, H, W, C]`, the same size as the search. All BatchNorms are `nn.BatchNorm2d`
 * (trained with batch statistics in training mode). Children and parameters carry the reference's
 * state-dict keys (`q_conv.0.weight`, `seg_responder_dw.1.0.weight`, `gate.mlp.2.bias`,
 * `t_pos_embeds.3`, …), so the retriever of an official checkpoint loads with no mapping.
 *
 * Where the reference runs, the numbers are the reference's (bit for bit with exact-friendly
 * weights). Beyond it: more than 3 templates (up to `neuron.maxSteps` and `numTemplates`), any
 * grid, non-square inputs, templates of another size than the search, and any B·Cv for the gate.
 */
export class Retriever extends Module<[tf.Tensor, tf.Tensor], tf.Tensor> {
  readonly dim: number;
  readonly numHeads: number;
  readonly lamdaRatio: number;
  /** Cv, the channels of v: `lamdaRatio · dim`. */
  readonly valueDim: number;
  /** The number of per-timestep responders (`temp_num`). */
  readonly numTemplates: number;
  /** The token grid `[rows, cols]`. */
  readonly grid: [number, number];
  /** The most templates a memory may hold: `numTemplates`, and at most `neuron.maxSteps` for NI-LIF. */
  readonly maxTemplates: number;
  readonly s_pos_embed: tf.Variable;
  readonly head_spike: BlockNeuron;
  readonly q_conv: ConvBn;
  readonly k_conv: ConvBn;
  readonly v_conv: ConvBn;
  readonly q_spike: BlockNeuron;
  readonly k_spike: BlockNeuron;
  readonly v_spike: BlockNeuron;
  readonly attn_spike: BlockNeuron;
  readonly proj_conv: ConvBn;
  readonly gate: GateModule;
  readonly gate_spike: BlockNeuron;
  readonly seg_responder_dw: ModuleList<ConvBn>;
  readonly seg_responder_pw: ModuleList<ConvBn>;
  readonly fuser: ConvBn;
  readonly seg_pw_spike: BlockNeuron;
  readonly seg_dw_spike: BlockNeuron;
  readonly fuser_spike: BlockNeuron;
  readonly t_pos_embeds: ParameterList;
  /** What bounds {@link maxTemplates}, for error messages. */
  private readonly templateBound: string;

  constructor(opts: RetrieverOptions) {
    super();
    const where = 'Retriever';
    optionsObject(where, opts);
    const dim = positiveInt(where, 'dim', opts.dim);
    const heads = positiveInt(where, 'numHeads', opts.numHeads ?? 8);
    if (dim % heads !== 0)
      throw new ConfigError(`${where}: dim ${dim} should be divisible by numHeads ${heads}`);
    const ratio = opts.lamdaRatio ?? 4;
    const valueDim = Math.trunc(dim * ratio); // torch: int(dim * lamda_ratio)
    if (!(typeof ratio === 'number' && ratio > 0) || valueDim < 1 || valueDim % heads !== 0) {
      throw new ConfigError(
        `${where}: lamdaRatio ${String(ratio)} gives ${valueDim} value channels, which must be a positive multiple of numHeads ${heads}`,
      );
    }
    const nTemplates = positiveInt(where, 'numTemplates', opts.numTemplates ?? 1);
    const grid = gridOf(where, opts.gridSize ?? 16);
    const nEmbeds = positiveInt(where, 'templateEmbeds', opts.templateEmbeds ?? 4);
    const neuron = checkBlockNeuron(where, opts.neuron);
    const maxSteps = neuron.type === 'ni-lif' ? (neuron.maxSteps ?? 4) : Number.POSITIVE_INFINITY;
    const spike = () => makeNeuron(neuron, 0, where);
    let s = opts.seed;
    /** The next `n` seeds (one per layer) of `opts.seed`, or none. */
    const seed = (n = 1) => {
      if (s === undefined) return {};
      const first = s;
      s += n;
      return { seed: first };
    };
    const norm = 'batch' as const;

    this.dim = dim;
    this.numHeads = heads;
    this.lamdaRatio = ratio;
    this.valueDim = valueDim;
    this.numTemplates = nTemplates;
    this.grid = grid;
    this.maxTemplates = Math.min(nTemplates, maxSteps);
    this.templateBound =
      maxSteps < nTemplates
        ? `numTemplates ${nTemplates}, neuron.maxSteps ${maxSteps}`
        : `numTemplates ${nTemplates}`;
    const tokens = grid[0] * grid[1];
    // The reference's order: its own parameters first, then the children as registered.
    this.s_pos_embed = this.param('s_pos_embed', tf.zeros([1, dim, tokens]));
    this.head_spike = this.child('head_spike', spike());
    this.q_conv = this.child('q_conv', new ConvBn(dim, dim, { norm, ...seed() }));
    this.k_conv = this.child('k_conv', new ConvBn(dim, dim, { norm, ...seed() }));
    this.v_conv = this.child('v_conv', new ConvBn(dim, valueDim, { norm, ...seed() }));
    this.q_spike = this.child('q_spike', spike());
    this.k_spike = this.child('k_spike', spike());
    this.v_spike = this.child('v_spike', spike());
    this.attn_spike = this.child('attn_spike', spike());
    this.proj_conv = this.child('proj_conv', new ConvBn(valueDim, dim, { norm, ...seed() }));
    this.gate = this.child(
      'gate',
      new GateModule({
        dim: valueDim,
        mode: 'channel',
        gridSize: grid,
        neuron,
        ...seed(2),
      }),
    );
    this.gate_spike = this.child('gate_spike', spike());
    this.seg_responder_dw = this.child(
      'seg_responder_dw',
      new ModuleList(
        Array.from(
          { length: nTemplates },
          () =>
            new ConvBn(valueDim, valueDim, { kernelSize: 3, padding: 1, groups: valueDim, norm, ...seed() }),
        ),
      ),
    );
    this.seg_responder_pw = this.child(
      'seg_responder_pw',
      new ModuleList(
        Array.from({ length: nTemplates }, () => new ConvBn(valueDim, dim, { norm, ...seed() })),
      ),
    );
    this.fuser = this.child('fuser', new ConvBn(dim, dim, { norm, ...seed() }));
    this.seg_pw_spike = this.child('seg_pw_spike', spike());
    this.seg_dw_spike = this.child('seg_dw_spike', spike());
    this.fuser_spike = this.child('fuser_spike', spike());
    this.t_pos_embeds = this.child(
      't_pos_embeds',
      new ParameterList(Array.from({ length: nEmbeds }, () => tf.zeros([1, dim, tokens]))),
    );
  }

  /** Label of the recorded attention products (`<path>.kv`, `<path>.qkv`, `<path>.recurrent.qkv`). */
  private get productLabel(): string {
    return this.path || 'retriever';
  }

  /** A torch `[1, C, N]` embedding as `[1, 1, rows, cols, C]`. */
  private embedding(p: tf.Tensor): tf.Tensor {
    return tf.reshape(tf.transpose(p, [0, 2, 1]), [1, 1, this.grid[0], this.grid[1], this.dim]);
  }

  /** Average-pools `[T, B, H, W, C]` to the grid (the reference's `downsample`), or returns it. */
  private toGrid(x: tf.Tensor, t: number, b: number, h: number, w: number): tf.Tensor {
    const [gh, gw] = this.grid;
    if (h === gh && w === gw) return x;
    const pooled = adaptiveAvgPool2d(mergeTime(x), [gh, gw], this.label);
    return splitTime(pooled, t, b);
  }

  /** The templates' memory `kᵀ·v` `[T, B, heads, C/heads, Cv/heads]`, inside the caller's tidy. */
  private memoryOf(templates: tf.Tensor): tf.Tensor {
    tensorArg(this.label, templates, 'templates', '[T, B, H, W, C]');
    const { t, b, h, w } = timeFirstDims(templates, this.label, this.dim, 'templates');
    if (t > this.maxTemplates) {
      throw new ShapeError(
        `${this.label}: got ${t} templates ${formatShape(templates.shape)}, but this retriever holds at most ${this.maxTemplates} (${this.templateBound})`,
      );
    }
    const [gh, gw] = this.grid;
    const n = gh * gw;
    let x = this.toGrid(templates, t, b, h, w);
    const last = this.t_pos_embeds.length - 1;
    const pos = Array.from({ length: t }, (_, i) => this.embedding(this.t_pos_embeds.at(Math.min(i, last))));
    x = tf.add(x, pos.length === 1 ? pos[0]! : tf.concat(pos, 0));
    const s = mergeTime(this.head_spike.apply(x));
    const k = this.k_spike.apply(splitTime(this.k_conv.apply(s), t, b));
    const v = this.v_spike.apply(splitTime(this.v_conv.apply(s), t, b));
    return linearAttentionMemory(
      tf.reshape(k, [t, b, n, this.dim]),
      tf.reshape(v, [t, b, n, this.valueDim]),
      {
        numHeads: this.numHeads,
        label: this.productLabel,
      },
    );
  }

  private checkMemory(kv: tf.Tensor, b: number): number {
    const dk = this.dim / this.numHeads;
    const dv = this.valueDim / this.numHeads;
    const [t, mb, heads, k, v] = kv.shape as [number, number, number, number, number];
    if (heads !== this.numHeads || k !== dk || v !== dv) {
      throw new ShapeError(
        `${this.label}: expected a memory of shape [T, B, ${this.numHeads}, ${dk}, ${dv}], got ${formatShape(kv.shape)}`,
      );
    }
    if (mb !== b) {
      throw new ShapeError(
        `${this.label}: the memory ${formatShape(kv.shape)} holds batch ${mb}, the search has batch ${b}`,
      );
    }
    if (t > this.maxTemplates) {
      throw new ShapeError(
        `${this.label}: the memory ${formatShape(kv.shape)} holds ${t} templates, but this retriever handles at most ${this.maxTemplates} (${this.templateBound})`,
      );
    }
    return t;
  }

  /** The search path against a memory `kv`, inside the caller's tidy. */
  private retrieveFrom(search: tf.Tensor, kv: tf.Tensor): tf.Tensor {
    tensorArg(this.label, search, 'search', '[1, B, H, W, C]');
    const { t: ts, b, h, w } = timeFirstDims(search, this.label, this.dim, 'search');
    if (ts !== 1) {
      throw new ShapeError(
        `${this.label}: the search must be one timestep [1, B, H, W, ${this.dim}], got ${formatShape(search.shape)}`,
      );
    }
    const t = this.checkMemory(kv, b);
    const [gh, gw] = this.grid;
    const n = gh * gw;
    const heads = { numHeads: this.numHeads };
    const x0 = tf.add(this.toGrid(search, 1, b, h, w), this.embedding(this.s_pos_embed));
    const s = this.head_spike.apply(x0);
    const shortcut = splitTime(this.q_conv.apply(mergeTime(s)), 1, b); // [1, B, gh, gw, C]
    // The search query, repeated over the T templates: T timesteps of the same input.
    // (concat, not tile: tfjs has no gradient for a rank-5 tile)
    const q = this.q_spike.apply(
      t === 1
        ? shortcut
        : tf.concat(
            Array.from({ length: t }, () => shortcut),
            0,
          ),
    );
    let x = queryLinearAttention(tf.reshape(q, [t, b, n, this.dim]), kv, {
      ...heads,
      label: this.productLabel,
    });
    // One recurrent refinement (the reference's recurrent_times = 1).
    const r = this.q_spike.apply(tf.reshape(x, [t, b, gh, gw, this.valueDim]));
    const perStep = (y: tf.Tensor, list: ModuleList<ConvBn>) => {
      // tfjs cannot differentiate `unstack` along an axis of length 1: reshape then.
      const parts = y.shape[0] === 1 ? [tf.reshape(y, y.shape.slice(1))] : tf.unstack(y, 0);
      const steps = parts.map((yt, i) => list.at(i).apply(yt));
      return steps.length === 1 ? tf.expandDims(steps[0]!, 0) : tf.stack(steps, 0);
    };
    const dw = this.seg_dw_spike.apply(perStep(r, this.seg_responder_dw));
    const pw = this.seg_pw_spike.apply(tf.add(shortcut, perStep(dw, this.seg_responder_pw)));
    const f = this.fuser_spike.apply(splitTime(this.fuser.apply(mergeTime(pw)), t, b));
    x = queryLinearAttention(tf.reshape(f, [t, b, n, this.dim]), kv, {
      ...heads,
      label: `${this.productLabel}.recurrent`,
    });
    let a = this.attn_spike.apply(tf.reshape(x, [t, b, gh, gw, this.valueDim]));
    if (t > 1) a = this.gate_spike.apply(tf.expandDims(this.gate.apply(a), 0));
    const y = this.proj_conv.apply(tf.reshape(a, [b, gh, gw, this.valueDim])); // [B, gh, gw, C]
    const restored = h === gh && w === gw ? y : resizeBilinear(y, [h, w], {}, this.label);
    return tf.expandDims(restored, 0);
  }

  /**
   * Encodes the templates `[T, B, H, W, C]` (T ≤ {@link maxTemplates}) into a {@link TemplateMemory}
   * that the caller owns and disposes. Tidy. Runs only the template branch.
   */
  memorize(templates: tf.Tensor): TemplateMemory {
    this.assertAlive();
    return new TemplateMemory(tf.tidy(() => this.memoryOf(templates)));
  }

  /**
   * Reads `memory` with the search feature map `[1, B, H, W, C]` → `[1, B, H, W, C]`. Tidy; the
   * memory is not changed, so one memory serves many search frames.
   */
  retrieve(search: tf.Tensor, memory: TemplateMemory): tf.Tensor {
    this.assertAlive();
    if (!(memory instanceof TemplateMemory)) {
      throw new ConfigError(
        `${this.label}: retrieve needs a TemplateMemory (from memorize), got ${String(memory)}`,
      );
    }
    const kv = memory.kv;
    return tf.tidy(() => this.retrieveFrom(search, kv));
  }

  /** `(templates [T, B, H, W, C], search [1, B, H', W', C])` → `[1, B, H', W', C]`: both branches. */
  forward(templates: tf.Tensor, search: tf.Tensor): tf.Tensor {
    return this.retrieveFrom(search, this.memoryOf(templates));
  }
}
