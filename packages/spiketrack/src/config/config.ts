import { CheckpointError, ConfigError } from '@spiketrack/neurons';
import {
  E_SPIKEFORMER_PRESETS,
  type ESpikeFormerPreset,
  inferESpikeFormerOptions,
  type StateShapes,
} from '@spiketrack/spike-transformer';

/**
 * The configuration of a SpikeTrack network: what the reference reads from its experiment YAML
 * (`MODEL.ENCODER.TYPE`, `DATA.SEARCH.SIZE`, `DATA.TEMPLATE.NUMBER`, `MODEL.NUM_CHANNELS`).
 */
export interface SpikeTrackConfig {
  /** The preset's name (`'spiketrack_b256_t3'`, …), or null for a custom configuration. */
  name: string | null;
  /** Backbone widths `[c0, c1, c2, c3]` (E-SpikeFormer tiny, small or base). */
  dims: readonly [number, number, number, number];
  /** The named backbone size of `dims`, or null for custom widths. */
  backbone: ESpikeFormerPreset | null;
  /** Attention heads of the backbone blocks and the retrievers (8 in every official config). */
  numHeads: number;
  /** MLP / conv-block expansion of the backbone and of the memory retrieval MLPs (4). */
  mlpRatio: number;
  /** Image channels (3). */
  inChannels: number;
  /** The search crop size R (256 or 384): the maps are R/16 × R/16; templates are R × R too. */
  resolution: number;
  /** The number of templates T (the template branch's time steps): 1 or 3 officially. */
  templates: number;
  /** Width of the head's first convs (`MODEL.NUM_CHANNELS`): 192 for small, 256 otherwise. */
  decoderChannel: number;
  /** The head's convs: 3×3 (`'normal'`, the official one) or 1×1 (`'small'`). */
  decoderConvType: 'normal' | 'small';
  /** The encoder's stride (16). */
  stride: number;
  /**
   * The backbone's normalization: `'frozen'` (the reference's: `FrozenBatchNorm2d`, fixed
   * statistics and affine, for fine-tuning a pretrained backbone) or `'batch'` (`BatchNorm2d`:
   * batch statistics and a learned affine while training, for training from scratch; in eval mode
   * it computes what the frozen norm computes with the same four tensors). The memory retrieval
   * modules and the head always use `BatchNorm`, as the reference.
   */
  backboneNorm: 'frozen' | 'batch';
}

/** The names of the built-in configurations. */
export type SpikeTrackConfigName =
  | 'spiketrack_s256_t1'
  | 'spiketrack_s256_t3'
  | 'spiketrack_b256_t1'
  | 'spiketrack_b256_t3'
  | 'spiketrack_b384_t1'
  | 'spiketrack_b384_t3'
  | 'tiny_256_t1'
  | 'tiny_256_t3';

function preset(
  name: SpikeTrackConfigName,
  backbone: ESpikeFormerPreset,
  resolution: number,
  templates: number,
  decoderChannel: number,
): Readonly<SpikeTrackConfig> {
  return Object.freeze({
    name,
    dims: E_SPIKEFORMER_PRESETS[backbone],
    backbone,
    numHeads: 8,
    mlpRatio: 4,
    inChannels: 3,
    resolution,
    templates,
    decoderChannel,
    decoderConvType: 'normal',
    stride: 16,
    backboneNorm: 'frozen',
  });
}

/**
 * The official configurations (`experiments/spiketrack/spiketrack_{s256,b256,b384}_{t1,t3}.yaml`:
 * small or base backbone, R = 256 or 384, T = 1 or 3 templates, head width 192 for small and
 * 256 for base), and the tiny backbone of the reference fixtures (head width 256, the reference's
 * default; there is no tiny YAML).
 */
export const SPIKETRACK_CONFIGS: Readonly<Record<SpikeTrackConfigName, Readonly<SpikeTrackConfig>>> =
  Object.freeze({
    spiketrack_s256_t1: preset('spiketrack_s256_t1', 'small', 256, 1, 192),
    spiketrack_s256_t3: preset('spiketrack_s256_t3', 'small', 256, 3, 192),
    spiketrack_b256_t1: preset('spiketrack_b256_t1', 'base', 256, 1, 256),
    spiketrack_b256_t3: preset('spiketrack_b256_t3', 'base', 256, 3, 256),
    spiketrack_b384_t1: preset('spiketrack_b384_t1', 'base', 384, 1, 256),
    spiketrack_b384_t3: preset('spiketrack_b384_t3', 'base', 384, 3, 256),
    tiny_256_t1: preset('tiny_256_t1', 'tiny', 256, 1, 256),
    tiny_256_t3: preset('tiny_256_t3', 'tiny', 256, 3, 256),
  });

/** The names of {@link SPIKETRACK_CONFIGS}. */
export const SPIKETRACK_CONFIG_NAMES = Object.freeze(
  Object.keys(SPIKETRACK_CONFIGS),
) as readonly SpikeTrackConfigName[];

function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** The name of the built-in configuration equal to `c` (ignoring `name`), or null. */
export function matchSpikeTrackConfig(c: Omit<SpikeTrackConfig, 'name'>): SpikeTrackConfigName | null {
  for (const name of SPIKETRACK_CONFIG_NAMES) {
    const p = SPIKETRACK_CONFIGS[name];
    if (
      p.dims.every((d, i) => d === c.dims[i]) &&
      p.numHeads === c.numHeads &&
      p.mlpRatio === c.mlpRatio &&
      p.inChannels === c.inChannels &&
      p.resolution === c.resolution &&
      p.templates === c.templates &&
      p.decoderChannel === c.decoderChannel &&
      p.decoderConvType === c.decoderConvType &&
      p.stride === c.stride &&
      p.backboneNorm === c.backboneNorm
    ) {
      return name;
    }
  }
  return null;
}

/**
 * A complete, checked configuration: a built-in name, or a partial configuration on top of a
 * built-in one (`base`, default: the preset named by `name`, else `tiny_256_t3`'s values).
 * Throws a {@link ConfigError} for an unknown name or an invalid value.
 */
export function resolveSpikeTrackConfig(
  config: SpikeTrackConfigName | (Partial<SpikeTrackConfig> & { base?: SpikeTrackConfigName }),
): SpikeTrackConfig {
  const where = 'SpikeTrackConfig';
  if (typeof config === 'string') {
    if (!Object.hasOwn(SPIKETRACK_CONFIGS, config)) {
      throw new ConfigError(
        `${where}: unknown configuration '${config}' (expected one of ${SPIKETRACK_CONFIG_NAMES.join(', ')})`,
      );
    }
    return { ...SPIKETRACK_CONFIGS[config] };
  }
  if (config === null || typeof config !== 'object') {
    throw new ConfigError(`${where}: expected a configuration name or object, got ${String(config)}`);
  }
  const baseName =
    config.base ??
    (config.name && Object.hasOwn(SPIKETRACK_CONFIGS, config.name) ? config.name : 'tiny_256_t3');
  if (!Object.hasOwn(SPIKETRACK_CONFIGS, baseName)) {
    throw new ConfigError(`${where}: unknown base configuration '${String(baseName)}'`);
  }
  const base = SPIKETRACK_CONFIGS[baseName as SpikeTrackConfigName];
  if (config.backbone && !Object.hasOwn(E_SPIKEFORMER_PRESETS, config.backbone)) {
    throw new ConfigError(
      `${where}: unknown backbone '${String(config.backbone)}' (expected one of ${Object.keys(E_SPIKEFORMER_PRESETS).join(', ')})`,
    );
  }
  let dims = config.dims ?? (config.backbone ? E_SPIKEFORMER_PRESETS[config.backbone] : base.dims);
  if (!Array.isArray(dims) || dims.length !== 4) {
    throw new ConfigError(`${where}: dims must be [c0, c1, c2, c3], got ${JSON.stringify(dims)}`);
  }
  dims = dims.map((d, i) => positiveInt(where, `dims[${i}]`, d)) as unknown as typeof dims;
  const out: SpikeTrackConfig = {
    name: null,
    dims: [dims[0], dims[1], dims[2], dims[3]],
    backbone: null,
    numHeads: positiveInt(where, 'numHeads', config.numHeads ?? base.numHeads),
    mlpRatio: positiveInt(where, 'mlpRatio', config.mlpRatio ?? base.mlpRatio),
    inChannels: positiveInt(where, 'inChannels', config.inChannels ?? base.inChannels),
    resolution: positiveInt(where, 'resolution', config.resolution ?? base.resolution),
    templates: positiveInt(where, 'templates', config.templates ?? base.templates),
    decoderChannel: positiveInt(where, 'decoderChannel', config.decoderChannel ?? base.decoderChannel),
    decoderConvType: config.decoderConvType ?? base.decoderConvType,
    stride: positiveInt(where, 'stride', config.stride ?? base.stride),
    backboneNorm: config.backboneNorm ?? base.backboneNorm,
  };
  if (out.backboneNorm !== 'frozen' && out.backboneNorm !== 'batch') {
    throw new ConfigError(
      `${where}: backboneNorm must be 'frozen' or 'batch', got ${String(out.backboneNorm)}`,
    );
  }
  if (out.decoderConvType !== 'normal' && out.decoderConvType !== 'small') {
    throw new ConfigError(
      `${where}: decoderConvType must be 'normal' or 'small', got ${String(out.decoderConvType)}`,
    );
  }
  if (out.stride !== 16) {
    throw new ConfigError(`${where}: the E-SpikeFormer encoder has stride 16, got stride ${out.stride}`);
  }
  if (out.resolution % 16 !== 0) {
    throw new ConfigError(`${where}: resolution must be a multiple of 16, got ${out.resolution}`);
  }
  if (out.decoderChannel % 8 !== 0) {
    throw new ConfigError(`${where}: decoderChannel must be a multiple of 8, got ${out.decoderChannel}`);
  }
  out.backbone =
    (Object.entries(E_SPIKEFORMER_PRESETS).find(([, d]) => d.every((v, i) => v === out.dims[i]))?.[0] as
      | ESpikeFormerPreset
      | undefined) ?? null;
  out.name = matchSpikeTrackConfig(out);
  return out;
}

/** What {@link inferSpikeTrackConfig} found. */
export interface InferredSpikeTrackConfig {
  /** The configuration (its `name` is the matching built-in one, or null). */
  config: SpikeTrackConfig;
  /** What could not be seen in the shapes and was assumed. */
  assumed: string[];
}

/**
 * Recovers a SpikeTrack configuration from the torch shapes of a full state dict (keys
 * `encoder.*` and `decoder.*`, as in official checkpoints; tensors, shapes or `{ shape }` entries):
 * backbone widths, MLP ratio and resolution from the encoder, T from the number of the first
 * retriever's `seg_responder_dw.*` layers, the head's width and kernel from `decoder.conv1_ctr`,
 * and `backboneNorm: 'batch'` when the backbone's norms have `num_batches_tracked`.
 * Heads cannot be seen in shapes: 8 is assumed (as in every official config).
 * Throws a {@link CheckpointError} naming the key when one it needs is missing or inconsistent.
 */
export function inferSpikeTrackConfig(shapes: StateShapes): InferredSpikeTrackConfig {
  const where = 'inferSpikeTrackConfig';
  const keys = shapes instanceof Map ? [...shapes.keys()] : Object.keys(shapes);
  const shapeOf = (key: string): readonly number[] => {
    const v = shapes instanceof Map ? shapes.get(key) : (shapes as Record<string, unknown>)[key];
    const s = v && !Array.isArray(v) ? (v as { shape?: readonly number[] }).shape : v;
    if (!Array.isArray(s)) {
      throw new CheckpointError(`${where}: no '${key}' among the shapes: not a SpikeTrack state dict`, {
        missing: [key],
      });
    }
    return s as readonly number[];
  };
  const { options } = inferESpikeFormerOptions(shapes, 'encoder.');
  const responder = /^encoder\.mrm\.0\.retriever\.seg_responder_dw\.(\d+)\.0\.weight$/;
  const templates = keys.filter((k) => responder.test(k)).length;
  if (templates === 0) {
    throw new CheckpointError(
      `${where}: no 'encoder.mrm.0.retriever.seg_responder_dw.*' keys: not a SpikeTrack state dict (a bare backbone?)`,
      { missing: ['encoder.mrm.0.retriever.seg_responder_dw.0.0.weight'] },
    );
  }
  const head = shapeOf('decoder.conv1_ctr.0.weight'); // [channel, c3, k, k]
  if (head[1] !== options.dims[3]) {
    throw new CheckpointError(
      `${where}: decoder.conv1_ctr.0.weight takes ${head[1]} channels, but the encoder ends with ${options.dims[3]}`,
      { mismatched: ['decoder.conv1_ctr.0.weight'] },
    );
  }
  const k = head[2];
  if (k !== 3 && k !== 1) {
    throw new CheckpointError(
      `${where}: decoder.conv1_ctr.0.weight has a ${k}×${k} kernel, expected 3×3 or 1×1`,
      {
        mismatched: ['decoder.conv1_ctr.0.weight'],
      },
    );
  }
  const config = resolveSpikeTrackConfig({
    dims: options.dims,
    numHeads: 8,
    mlpRatio: options.mlpRatio,
    inChannels: options.inChannels,
    resolution: options.resolution,
    templates,
    decoderChannel: head[0]!,
    decoderConvType: k === 3 ? 'normal' : 'small',
    stride: 16,
    // a backbone trained with BatchNorm2d carries num_batches_tracked (FrozenBatchNorm2d has none)
    backboneNorm: keys.some((key) => /^encoder\.(?!mrm\.).*\.num_batches_tracked$/.test(key))
      ? 'batch'
      : 'frozen',
  });
  return { config, assumed: ['numHeads = 8 (heads are not visible in the shapes)'] };
}
