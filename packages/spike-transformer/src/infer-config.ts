import { CheckpointError } from '@spiketrack/neurons';
import { E_SPIKEFORMER_PRESETS, type ESpikeFormerOptions, type ESpikeFormerPreset } from './backbone';

/** What {@link inferESpikeFormerOptions} recovers from a state dict's shapes. */
export interface InferredESpikeFormer {
  /** Options to build the backbone with (`numHeads` cannot be seen in shapes: pass it if not 8). */
  options: Required<Pick<ESpikeFormerOptions, 'dims' | 'mlpRatio' | 'inChannels' | 'resolution'>>;
  /** The preset with these dims, or null for custom dims. */
  preset: ESpikeFormerPreset | null;
}

/** A shape, or anything with one (a tensor, a config entry `{ shape, dtype }`). */
type ShapeLike = readonly number[] | { readonly shape: readonly number[] };

/** Shapes by state-dict key: a `Map` or a plain object, of shapes, tensors or `{ shape }` entries. */
export type StateShapes = ReadonlyMap<string, ShapeLike> | Readonly<Record<string, ShapeLike>>;

/**
 * Recovers the backbone's configuration (dims, MLP ratio, image channels, resolution) from the
 * torch shapes of its state dict (or the tensors themselves), e.g. a checkpoint's `encoder.*` keys
 * with `prefix = 'encoder.'`.
 * Throws a {@link CheckpointError} naming the key when one it needs is missing or inconsistent.
 */
export function inferESpikeFormerOptions(shapes: StateShapes, prefix = ''): InferredESpikeFormer {
  const where = 'inferESpikeFormerOptions';
  const get = (key: string): readonly number[] => {
    const v: ShapeLike | undefined =
      shapes instanceof Map ? shapes.get(prefix + key) : (shapes as Record<string, ShapeLike>)[prefix + key];
    const s = v && !Array.isArray(v) ? (v as { shape: readonly number[] }).shape : v;
    if (!Array.isArray(s)) {
      throw new CheckpointError(
        `${where}: no '${prefix}${key}' among the shapes: not an E-SpikeFormer state dict`,
        {
          missing: [prefix + key],
        },
      );
    }
    return s as readonly number[];
  };
  const stem = get('downsample1_1.encode_conv.weight'); // [c0/2, in, 7, 7]
  const c0 = get('downsample1_2.encode_conv.weight')[0]!;
  const c1 = get('downsample2.encode_conv.weight')[0]!;
  const c2 = get('downsample3.encode_conv.weight')[0]!;
  const c3 = get('downsample4.encode_conv.weight')[0]!;
  if (stem[0]! * 2 !== c0) {
    throw new CheckpointError(
      `${where}: the stem has ${stem[0]} channels, expected c0/2 = ${c0 / 2} (from downsample1_2)`,
      { mismatched: [`${prefix}downsample1_1.encode_conv.weight`] },
    );
  }
  const hidden = get('block3.0.mlp.fc1_conv.weight')[0]!;
  const tokens = get('block3.0.attn.s_pos_embed')[2]!;
  const grid = Math.round(Math.sqrt(tokens));
  if (grid * grid !== tokens) {
    throw new CheckpointError(`${where}: s_pos_embed has ${tokens} tokens, not a square grid`, {
      mismatched: [`${prefix}block3.0.attn.s_pos_embed`],
    });
  }
  const dims = [c0, c1, c2, c3] as [number, number, number, number];
  const preset =
    (Object.entries(E_SPIKEFORMER_PRESETS).find(([, d]) => d.every((v, i) => v === dims[i]))?.[0] as
      | ESpikeFormerPreset
      | undefined) ?? null;
  return {
    options: { dims, mlpRatio: hidden / c2, inChannels: stem[1]!, resolution: grid * 16 },
    preset,
  };
}
