import { MemoryRetrieval, TemplateMemory } from '@spiketrack/memory-retrieval';
import { ConfigError, ModuleList, ShapeError } from '@spiketrack/neurons';
import {
  E_SPIKEFORMER_SEGMENTS,
  ESpikeFormer,
  type ESpikeFormerOptions,
  timeFirstDims,
} from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link SpikeTrackEncoder}: the backbone's, and the number of templates. */
export interface SpikeTrackEncoderOptions extends ESpikeFormerOptions {
  /** T, the number of templates (the reference's `temp_num`, default 1). */
  templates?: number;
}

/**
 * SpikeTrack's encoder (the reference's `Spiking_vit_MetaFormer_Spike_SepConv` with its `mrm`):
 * the E-SpikeFormer backbone, shared by the T templates and the search image, and six memory
 * retrieval modules `mrm.0`–`mrm.5` (`MemoryRetrieval` of `@spiketrack/memory-retrieval`) where
 * the search branch reads the templates (after each segment of the backbone, see
 * `ESpikeFormer.segment`). Templates are never influenced by the search image.
 *
 * State-dict keys are the reference's `encoder.*` keys (without `encoder.`). The inherited
 * `forward(x, branch)` runs the backbone alone; {@link encode} runs the tracker's encoder.
 */
export class SpikeTrackEncoder extends ESpikeFormer {
  /** T, the number of templates. */
  readonly templates: number;
  /** The six memory retrieval modules, at the ends of the backbone's six segments. */
  readonly mrm: ModuleList<MemoryRetrieval>;

  constructor(opts: SpikeTrackEncoderOptions = {}) {
    super(opts);
    const t = opts.templates ?? 1;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1) {
      throw new ConfigError(`SpikeTrackEncoder: templates must be a positive integer, got ${String(t)}`);
    }
    this.templates = t;
    const grid = this.resolution / 16;
    const seed = opts.seed;
    this.mrm = this.child(
      'mrm',
      new ModuleList(
        Array.from(
          { length: E_SPIKEFORMER_SEGMENTS },
          (_, i) =>
            new MemoryRetrieval({
              dim: this.segmentChannels(i),
              mlpRatio: this.mlpRatio,
              numHeads: this.numHeads,
              numTemplates: t,
              gridSize: grid,
              ...(opts.templateEmbeds === undefined ? {} : { templateEmbeds: opts.templateEmbeds }),
              ...(opts.neuron ? { neuron: opts.neuron } : {}),
              ...(seed === undefined ? {} : { seed: seed + 10_000 + 1000 * i }),
            }),
        ),
      ),
    );
  }

  private checkInputs(templates: tf.Tensor, search: tf.Tensor | null): void {
    const td = timeFirstDims(templates, this.label, this.inChannels, 'templates');
    if (td.t !== this.templates) {
      throw new ShapeError(
        `${this.label}: expected ${this.templates} template(s) (time steps), got ${td.t} (templates of shape [${templates.shape.join(', ')}])`,
      );
    }
    if (search) {
      const sd = timeFirstDims(search, this.label, this.inChannels, 'search');
      if (sd.t !== 1 || sd.b !== td.b) {
        throw new ShapeError(
          `${this.label}: expected search of shape [1, ${td.b}, H, W, ${this.inChannels}] (one time step, the templates' batch), got [${search.shape.join(', ')}]`,
        );
      }
    }
  }

  /**
   * The tracker's encoder, as the reference's `forward_features`: templates `[T, B, R, R, 3]` and
   * the search image `[1, B, R, R, 3]` → search features `[1, B, R/16, R/16, c3]`. Both branches
   * run segment by segment (templates first, as the reference calls each shared layer), and
   * `mrm[i]` merges the templates into the search after segment i. Tidy.
   */
  encode(templates: tf.Tensor, search: tf.Tensor): tf.Tensor5D {
    this.assertAlive();
    this.checkInputs(templates, search);
    return tf.tidy(() => {
      let t = templates;
      let s = search;
      for (let i = 0; i < E_SPIKEFORMER_SEGMENTS; i++) {
        t = this.segment(i, t, 'template');
        s = this.segment(i, s, 'search');
        s = this.mrm.at(i).apply(t, s);
      }
      return s as tf.Tensor5D;
    });
  }

  /**
   * The template branch alone: templates `[T, B, R, R, 3]` → one {@link TemplateMemory} per MRM
   * (the reference's `sdtv3_temp_inference`), owned by the caller.
   */
  memorize(templates: tf.Tensor): TemplateMemory[] {
    this.assertAlive();
    this.checkInputs(templates, null);
    const out: TemplateMemory[] = [];
    try {
      tf.tidy(() => {
        let t = templates;
        for (let i = 0; i < E_SPIKEFORMER_SEGMENTS; i++) {
          t = this.segment(i, t, 'template');
          out.push(this.mrm.at(i).memorize(t));
        }
      });
    } catch (e) {
      for (const m of out) m.dispose();
      throw e;
    }
    return out;
  }

  /**
   * The search branch alone (the reference's `sdtv3_search_inference`): the search image
   * `[1, B, R, R, 3]` and the memories of {@link memorize} → search features `[1, B, R/16, R/16, c3]`.
   * Tidy; the memories are not changed.
   */
  retrieve(search: tf.Tensor, memories: readonly TemplateMemory[]): tf.Tensor5D {
    this.assertAlive();
    timeFirstDims(search, this.label, this.inChannels, 'search');
    if (!Array.isArray(memories) || memories.length !== E_SPIKEFORMER_SEGMENTS) {
      throw new ConfigError(
        `${this.label}: retrieve needs ${E_SPIKEFORMER_SEGMENTS} template memories (one per MRM), got ${Array.isArray(memories) ? memories.length : String(memories)}`,
      );
    }
    for (const [i, m] of memories.entries()) {
      if (!(m instanceof TemplateMemory)) {
        throw new ConfigError(`${this.label}: memory ${i} is not a TemplateMemory`);
      }
      if (m.numTemplates !== this.templates || m.batchSize !== search.shape[1]) {
        throw new ShapeError(
          `${this.label}: memory ${i} holds ${m.numTemplates} template(s) of batch ${m.batchSize}; expected ${this.templates} of batch ${search.shape[1]}`,
        );
      }
    }
    if (search.shape[0] !== 1) {
      throw new ShapeError(
        `${this.label}: expected search of shape [1, B, H, W, C], got [${search.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      let s = search;
      for (let i = 0; i < E_SPIKEFORMER_SEGMENTS; i++) {
        s = this.segment(i, s, 'search');
        s = this.mrm.at(i).retrieve(s, memories[i]!);
      }
      return s as tf.Tensor5D;
    });
  }
}
