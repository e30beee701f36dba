import {
  CheckpointError,
  ConfigError,
  type LoadReport,
  Module,
  refreshExactConstants,
} from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { type ReadCheckpointOptions, readCheckpoint } from '../checkpoint/load';
import type { CheckpointSource } from '../checkpoint/source';
import {
  inferSpikeTrackConfig,
  resolveSpikeTrackConfig,
  type SpikeTrackConfig,
  type SpikeTrackConfigName,
} from '../config/config';
import { CenterPredictor, type HeadOutput } from '../head/center-predictor';
import { SpikeTrackEncoder } from './encoder';
import { TemplateCache } from './template-cache';
import {
  type TemplateInput,
  type TrackingNetwork,
  toSearchTensor,
  toTemplateTensor,
} from './tracking-network';

export type { TemplateInput } from './tracking-network';

/** A configuration: a built-in name, or a partial configuration (on top of `base`). */
export type SpikeTrackConfigInput =
  | SpikeTrackConfigName
  | (Partial<SpikeTrackConfig> & { base?: SpikeTrackConfigName });

/** Options of {@link SpikeTrackModel}. */
export interface SpikeTrackModelOptions {
  /** The configuration (default `'tiny_256_t3'`). */
  config?: SpikeTrackConfigInput;
  /** Seed of the random initialization (the same weights on every backend). */
  seed?: number;
}

/** Options of {@link SpikeTrackModel.fromCheckpoint}. */
export interface FromCheckpointOptions extends ReadCheckpointOptions {
  /**
   * The configuration. Default: the one a safetensors file written by {@link saveCheckpoint}
   * records, else the one inferred from the checkpoint's shapes ({@link inferSpikeTrackConfig}).
   */
  config?: SpikeTrackConfigInput;
  /**
   * Strict loading (default true): every key of the model must be in the file and nothing else.
   * With `false` (as the official tracker's `load_state_dict(strict=False)`), missing and
   * unexpected keys are reported in {@link SpikeTrackModel.loadReport}; shape mismatches still throw.
   */
  strict?: boolean;
}

/** Metadata keys of the safetensors files {@link saveCheckpoint} writes. */
export const CHECKPOINT_METADATA = {
  layout: 'spiketrack.layout',
  config: 'spiketrack.config',
} as const;

function configFromMetadata(metadata: Record<string, string>, source: string): SpikeTrackConfig | null {
  const raw = metadata[CHECKPOINT_METADATA.config];
  if (raw === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new CheckpointError(
      `${source}: invalid '${CHECKPOINT_METADATA.config}' metadata: ${(e as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object') {
    throw new CheckpointError(`${source}: '${CHECKPOINT_METADATA.config}' metadata is not an object`);
  }
  const { name: _name, backbone: _backbone, ...rest } = parsed as Partial<SpikeTrackConfig>;
  return resolveSpikeTrackConfig(rest);
}

/**
 * The SpikeTrack network (the reference's `SpikeTrack`: `encoder` + `decoder`): an asymmetric
 * spiking encoder ({@link SpikeTrackEncoder}: the E-SpikeFormer backbone and six memory
 * retrieval modules) and the {@link CenterPredictor} head. State-dict keys are the reference's
 * (`encoder.block3.0.attn.q_conv.0.weight`, `encoder.mrm.2.retriever.gate.mlp.0.weight`,
 * `decoder.conv1_ctr.0.weight`, …), so official checkpoints load with no mapping.
 *
 * Two paths over the same weights:
 * - `apply(templates, search)` (= {@link forward}): both branches, as the reference's
 *   `forward_encoder` + `forward_decoder`, for training and parity;
 * - {@link encodeTemplates} once per template change, then {@link trackFrame} per frame: only the
 *   search branch runs, reading the cached template memories (the reference's inference split).
 *
 * Images are NHWC, normalized as the reference's `Preprocessor` (`(x/255 − mean)/std`, ImageNet
 * statistics), R × R with R = `config.resolution`, templates the same size as the search crop.
 * It is a {@link TrackingNetwork}, the interface `Tracker` and `Trainer` take.
 */
export class SpikeTrackModel
  extends Module<[TemplateInput, tf.Tensor], HeadOutput>
  implements TrackingNetwork<TemplateCache>
{
  /** The configuration the model was built with. */
  readonly config: Readonly<SpikeTrackConfig>;
  readonly encoder: SpikeTrackEncoder;
  readonly decoder: CenterPredictor;
  /** What the checkpoint load did ({@link fromCheckpoint}), or null for a new model. */
  loadReport: LoadReport | null = null;

  constructor(opts: SpikeTrackModelOptions = {}) {
    super();
    if (opts === null || typeof opts !== 'object') {
      throw new ConfigError('SpikeTrackModel: options must be an object');
    }
    const config = resolveSpikeTrackConfig(opts.config ?? 'tiny_256_t3');
    this.config = Object.freeze(config);
    const seed = opts.seed;
    this.encoder = this.child(
      'encoder',
      new SpikeTrackEncoder({
        dims: config.dims,
        numHeads: config.numHeads,
        mlpRatio: config.mlpRatio,
        inChannels: config.inChannels,
        resolution: config.resolution,
        templates: config.templates,
        norm: config.backboneNorm,
        ...(seed === undefined ? {} : { seed }),
      }),
    );
    this.decoder = this.child(
      'decoder',
      new CenterPredictor({
        inplanes: config.dims[3],
        channel: config.decoderChannel,
        featSize: config.resolution / config.stride,
        stride: config.stride,
        convType: config.decoderConvType,
        ...(seed === undefined ? {} : { seed: seed + 50_000 }),
      }),
    );
  }

  /**
   * Builds a model from an official `.pth.tar` checkpoint (`torch.save({'net': state_dict})` or a
   * trainer checkpoint; read by the safe reader, no pickle code runs) or a `.safetensors` file
   * (torch layout, or one written by {@link saveCheckpoint}), given as a path (Node), a URL, or
   * bytes. The configuration comes from `opts.config`, the file's metadata, or the tensor shapes.
   * The model is returned in eval mode with exact BatchNorm constants.
   */
  static async fromCheckpoint(
    src: CheckpointSource,
    opts: FromCheckpointOptions = {},
  ): Promise<SpikeTrackModel> {
    const contents = await readCheckpoint(src, opts);
    const { source, layout } = contents;
    let model: SpikeTrackModel | null = null;
    try {
      let config: SpikeTrackConfig | null = opts.config ? resolveSpikeTrackConfig(opts.config) : null;
      config ??= configFromMetadata(contents.metadata, source);
      if (!config) {
        if (layout !== 'torch') {
          throw new CheckpointError(
            `${source}: a native-layout file without '${CHECKPOINT_METADATA.config}' metadata: pass { config }`,
          );
        }
        try {
          config = inferSpikeTrackConfig(contents.tensors).config;
        } catch (e) {
          if (e instanceof CheckpointError) {
            throw new CheckpointError(`${source}: cannot infer the SpikeTrack configuration: ${e.message}`, {
              missing: e.missing,
              mismatched: e.mismatched,
            });
          }
          throw e;
        }
      }
      model = new SpikeTrackModel({ config });
      model.loadReport = model.loadStateDict(contents.tensors, {
        strict: opts.strict ?? true,
        layout,
        source,
      });
      model.eval();
      await refreshExactConstants(model);
      return model;
    } catch (e) {
      model?.dispose();
      throw e;
    } finally {
      for (const t of contents.tensors.values()) t.dispose();
    }
  }

  /** Templates as `[T, B, R, R, C]` (a new tensor; the caller disposes it). */
  private templatesTensor(templates: TemplateInput): tf.Tensor {
    return toTemplateTensor(templates, `${this.label}: templates`);
  }

  /** The search image as `[1, B, R, R, C]` (a new tensor). */
  private searchTensor(search: tf.Tensor): tf.Tensor {
    return toSearchTensor(search, this.label);
  }

  /**
   * Both branches and the head (the reference's `forward_encoder` + `forward_decoder`): templates
   * and search image → {@link HeadOutput} (maps `[B, F, F, ·]`, boxes `[B, 4]`, F = R/16).
   * Call it as `model.apply(templates, search)` (tidy, forward hooks).
   */
  forward(templates: TemplateInput, search: tf.Tensor): HeadOutput {
    const t = this.templatesTensor(templates);
    const s = this.searchTensor(search);
    return this.decoder.apply(this.encoder.encode(t, s));
  }

  /** The encoder's search features `[1, B, F, F, c3]` of both branches (the reference's `forward_encoder`). Tidy. */
  encode(templates: TemplateInput, search: tf.Tensor): tf.Tensor5D {
    this.assertAlive();
    return tf.tidy(() => this.encoder.encode(this.templatesTensor(templates), this.searchTensor(search)));
  }

  /**
   * Runs the template branch once and caches what the search branch needs: the `kᵀ·v` memory of
   * each MRM. The caller owns the cache (dispose it when the templates change).
   */
  encodeTemplates(templates: TemplateInput): TemplateCache {
    this.assertAlive();
    const t = this.templatesTensor(templates);
    try {
      return new TemplateCache(this.encoder.memorize(t));
    } finally {
      t.dispose();
    }
  }

  /** The search branch on cached templates → the encoder's features `[1, B, F, F, c3]`. Tidy. */
  encodeSearch(search: tf.Tensor, cache: TemplateCache): tf.Tensor5D {
    this.assertAlive();
    if (!(cache instanceof TemplateCache)) {
      throw new ConfigError(
        `${this.label}: expected a TemplateCache (from encodeTemplates), got ${String(cache)}`,
      );
    }
    return tf.tidy(() => this.encoder.retrieve(this.searchTensor(search), cache.memories));
  }

  /** One frame on the fast path: the search image and the cached templates → {@link HeadOutput}. Tidy. */
  trackFrame(search: tf.Tensor, cache: TemplateCache): HeadOutput {
    this.assertAlive();
    return tf.tidy(() => {
      const f = this.encodeSearch(search, cache);
      return this.decoder.apply(f) as unknown as tf.TensorContainer;
    }) as unknown as HeadOutput;
  }
}
