/**
 * A different spiking tracker, assembled from the published packages only:
 *
 * - neurons: I-LIF (`@spiketrack/neurons`' `ILIF`: a leaky membrane with τ = 2 and integer spike
 *   counts 0…4) everywhere, where SpikeTrack uses its NI-LIF (learned decays, counts / 4);
 * - backbone: a shallower SDT-V3 (`ESpikeFormer` of `@spiketrack/spike-transformer`) with 2 + 1
 *   transformer blocks in stages 3 and 4 instead of E-SpikeFormer's 6 + 2;
 * - memory retrieval (`MemoryRetrieval` of `@spiketrack/memory-retrieval`) at two points of the
 *   backbone (after stage 3's downsampling and after the last block) instead of SpikeTrack's six;
 * - SpikeTrack's center head (`CenterPredictor` of `spiketrack`), with I-LIF neurons too.
 *
 * `CustomTracker` implements spiketrack's `TrackingNetwork` interface, so the same `Tracker`,
 * `Trainer`, `trackerEnergy` and `spiketrack eval --tracker ./tracker.mjs` run it. This module's
 * `createModel({ checkpoint })` is what `spiketrack eval` calls: it builds the network with the
 * configuration that `train.mjs` recorded in the checkpoint's metadata (or the default one), and
 * the CLI then loads the checkpoint's weights into it.
 */
import { Module, ModuleList } from '@spiketrack/neurons';
import { MemoryRetrieval } from '@spiketrack/memory-retrieval';
import { E_SPIKEFORMER_SEGMENTS, ESpikeFormer } from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';
import { CenterPredictor, readCheckpoint, TemplateCache, toSearchTensor, toTemplateTensor } from 'spiketrack';

/** The safetensors metadata key under which `train.mjs` records the configuration. */
export const CONFIG_METADATA = 'custom-tracker.config';

/**
 * The configuration trained for the README: R = 64, one template, the bundled model's widths
 * ([16, 32, 64, 96]), 2 + 1 transformer blocks, I-LIF neurons, memory retrieval at backbone
 * segments 2 and 5 (of 0…5; SpikeTrack retrieves after every one), BatchNorm in the backbone.
 */
export const DEFAULT_CONFIG = Object.freeze({
  name: 'custom-ilif-shallow-mrm2',
  resolution: 64,
  templates: 1,
  dims: [16, 32, 64, 96],
  depths: [2, 1],
  numHeads: 4,
  mlpRatio: 4,
  neuron: { type: 'i-lif' },
  retrievalPoints: [2, 5],
  decoderChannel: 64,
  // trained from scratch: BatchNorm with batch statistics in the backbone (not the reference's frozen norms)
  norm: 'batch',
});

/**
 * The encoder: the shallow backbone, shared by the templates and the search image, with a memory
 * retrieval module after each of `retrievalPoints` (backbone segments, see `ESpikeFormer.segment`).
 * Child names (`mrm.<k>` inside `encoder`) follow SpikeTrack's, so energy reports group them the
 * same way (`mrm.0` is the module at `retrievalPoints[0]`, …).
 */
export class RetrievalEncoder extends ESpikeFormer {
  /**
   * @param {object} opts the `ESpikeFormer` options, plus
   * @param {number[]} opts.retrievalPoints backbone segments (0…5) after which the search reads the templates
   * @param {number} opts.templates T, the number of templates
   */
  constructor({ retrievalPoints, templates, ...backbone }) {
    super(backbone);
    const points = [...retrievalPoints];
    if (
      points.length === 0 ||
      points.some(
        (p, i) => !Number.isInteger(p) || p < 0 || p >= E_SPIKEFORMER_SEGMENTS || p <= (points[i - 1] ?? -1),
      )
    ) {
      throw new Error(
        `retrievalPoints must be increasing segment indices in 0…5, got ${JSON.stringify(points)}`,
      );
    }
    this.retrievalPoints = points;
    this.templates = templates;
    const seed = backbone.seed;
    this.mrm = this.child(
      'mrm',
      new ModuleList(
        points.map(
          (p, k) =>
            new MemoryRetrieval({
              dim: this.segmentChannels(p),
              numHeads: this.numHeads,
              mlpRatio: this.mlpRatio,
              numTemplates: templates,
              gridSize: this.resolution / 16,
              ...(backbone.neuron ? { neuron: backbone.neuron } : {}),
              ...(seed === undefined ? {} : { seed: seed + 10_000 + 1000 * k }),
            }),
        ),
      ),
    );
  }

  /** Both branches: templates `[T, B, R, R, 3]`, search `[1, B, R, R, 3]` → `[1, B, R/16, R/16, c3]`. */
  encode(templates, search) {
    let t = templates;
    let s = search;
    for (let i = 0; i < E_SPIKEFORMER_SEGMENTS; i++) {
      t = this.segment(i, t, 'template');
      s = this.segment(i, s, 'search');
      const k = this.retrievalPoints.indexOf(i);
      if (k >= 0) s = this.mrm.at(k).apply(t, s);
    }
    return s;
  }

  /** The template branch, up to the last retrieval point → one `TemplateMemory` per MRM (owned by the caller). */
  memorize(templates) {
    const out = [];
    try {
      tf.tidy(() => {
        let t = templates;
        const last = this.retrievalPoints[this.retrievalPoints.length - 1];
        for (let i = 0; i <= last; i++) {
          t = this.segment(i, t, 'template');
          const k = this.retrievalPoints.indexOf(i);
          if (k >= 0) out.push(this.mrm.at(k).memorize(t));
        }
      });
    } catch (e) {
      for (const m of out) m.dispose();
      throw e;
    }
    return out;
  }

  /** The search branch on the memories of {@link memorize} → `[1, B, R/16, R/16, c3]`. Tidy. */
  retrieve(search, memories) {
    return tf.tidy(() => {
      let s = search;
      for (let i = 0; i < E_SPIKEFORMER_SEGMENTS; i++) {
        s = this.segment(i, s, 'search');
        const k = this.retrievalPoints.indexOf(i);
        if (k >= 0) s = this.mrm.at(k).retrieve(s, memories[k]);
      }
      return s;
    });
  }
}

/**
 * The tracking network (a `TrackingNetwork` of spiketrack): `encoder` ({@link RetrievalEncoder})
 * and `decoder` (SpikeTrack's `CenterPredictor`). Parameters named `encoder.*` get the trainer's
 * encoder learning-rate scale, as SpikeTrack's do.
 */
export class CustomTracker extends Module {
  /**
   * @param {Partial<typeof DEFAULT_CONFIG>} config overrides of {@link DEFAULT_CONFIG}
   * @param {{ seed?: number }} [opts] the seed of the initialization
   */
  constructor(config = {}, { seed } = {}) {
    super();
    const c = { ...DEFAULT_CONFIG, ...config };
    /** The configuration (`resolution` and `templates` are what the tracker and trainer read). */
    this.config = Object.freeze(c);
    this.encoder = this.child(
      'encoder',
      new RetrievalEncoder({
        dims: c.dims,
        depths: c.depths,
        numHeads: c.numHeads,
        mlpRatio: c.mlpRatio,
        resolution: c.resolution,
        neuron: c.neuron,
        norm: c.norm,
        retrievalPoints: c.retrievalPoints,
        templates: c.templates,
        ...(seed === undefined ? {} : { seed }),
      }),
    );
    this.decoder = this.child(
      'decoder',
      new CenterPredictor({
        inplanes: c.dims[3],
        channel: c.decoderChannel,
        featSize: c.resolution / 16,
        stride: 16,
        neuron: c.neuron,
        ...(seed === undefined ? {} : { seed: seed + 50_000 }),
      }),
    );
  }

  /** The training path: templates and search crops (normalized NHWC) → the head's output. */
  forward(templates, search) {
    const t = toTemplateTensor(templates, `${this.label}: templates`);
    const s = toSearchTensor(search, this.label);
    return this.decoder.apply(this.encoder.encode(t, s));
  }

  /** The template branch once per template change → a `TemplateCache` the caller disposes. */
  encodeTemplates(templates) {
    const t = toTemplateTensor(templates, `${this.label}: templates`);
    try {
      return new TemplateCache(this.encoder.memorize(t));
    } finally {
      t.dispose();
    }
  }

  /** One frame on the cached templates → the head's output. Tidy. */
  trackFrame(search, cache) {
    return tf.tidy(() =>
      this.decoder.apply(this.encoder.retrieve(toSearchTensor(search, this.label), cache.memories)),
    );
  }
}

/** The configuration recorded in a checkpoint written by `train.mjs`, or null. */
export async function checkpointConfig(checkpoint) {
  const { tensors, metadata } = await readCheckpoint(checkpoint);
  tf.dispose([...tensors.values()]);
  const raw = metadata[CONFIG_METADATA];
  return raw === undefined ? null : JSON.parse(raw);
}

/**
 * The factory `spiketrack eval --tracker ./tracker.mjs [--checkpoint model.safetensors]` calls: the
 * network of the checkpoint's recorded configuration (else {@link DEFAULT_CONFIG}); the CLI loads
 * the weights. `train.mjs --workers N` has its gradient workers call it with `{ config }`.
 */
export async function createModel({ checkpoint, config } = {}) {
  const recorded = checkpoint === undefined ? null : await checkpointConfig(checkpoint);
  return new CustomTracker(config ?? recorded ?? {});
}
