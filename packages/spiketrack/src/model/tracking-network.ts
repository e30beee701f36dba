import { ConfigError, formatShape, type Module, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import type { HeadOutput } from '../head/center-predictor';

/**
 * Templates: a tensor `[T, B, R, R, 3]` (time first: template t is time step t), a tensor
 * `[B, R, R, 3]` (one template), or a list of T tensors `[B, R, R, 3]` (or `[1, B, R, R, 3]`), in the
 * reference's `images_list` order (oldest first).
 */
export type TemplateInput = tf.Tensor | readonly tf.Tensor[];

/** What the tracker, the trainer and the tools need to know of a network's configuration. */
export interface TrackingNetworkConfig {
  /** A name for logs and reports (optional). */
  readonly name?: string | null;
  /** R: the search crop (and template) size in pixels; the head's maps are `R / 16` (its stride). */
  readonly resolution: number;
  /** T: the number of templates the network takes. */
  readonly templates: number;
}

/** What the template branch leaves for the search branch; its owner disposes it when the templates change. */
export interface TemplateState {
  dispose(): void;
}

/**
 * A spiking tracking network, as `Tracker`, `Trainer`, `evaluateHeldOut`, `trackerEnergy` and
 * `spiketrack eval --tracker MODULE` use it: a `Module` of `@spiketrack/neurons` (parameters, state
 * dicts, train / eval) with SpikeTrack's two paths over the same weights:
 *
 * - `forward(templates, search)` → {@link HeadOutput} (the training path: both branches, the head);
 * - {@link encodeTemplates} once per template change → a {@link TemplateState} the caller owns, then
 *   {@link trackFrame} per frame (the search branch on the cached templates, and the head).
 *
 * Images are normalized NHWC crops (ImageNet statistics, as the tracker's preprocessing), R × R with
 * R = `config.resolution`: templates as {@link TemplateInput}, the search as `[B, R, R, 3]` or
 * `[1, B, R, R, 3]` ({@link toTemplateTensor} and {@link toSearchTensor} bring them to time-first
 * 5-D tensors). The head's maps are `[B, F, F, ·]` with F = R/16, as `CenterPredictor` gives them.
 * Every call is tidy. `SpikeTrackModel` is one; `examples/custom-tracker` builds another from the
 * packages' parts. Parameters named `encoder.*` get the trainer's encoder learning-rate scale.
 */
export interface TrackingNetwork<Cache extends TemplateState = TemplateState>
  extends Module<[TemplateInput, tf.Tensor], HeadOutput> {
  readonly config: TrackingNetworkConfig;
  /** Runs the template branch; the caller owns the result (dispose it when the templates change). */
  encodeTemplates(templates: TemplateInput): Cache;
  /** The search branch on cached templates, and the head → {@link HeadOutput}. */
  trackFrame(search: tf.Tensor, cache: Cache): HeadOutput;
}

const METHODS = [
  'forward',
  'apply',
  'encodeTemplates',
  'trackFrame',
  'trainableParameters',
  'stateDict',
  'loadStateDict',
  'train',
  'eval',
  'dispose',
] as const;

/**
 * Checks that `value` is a {@link TrackingNetwork} (a `Module` with `encodeTemplates`, `trackFrame`
 * and a `config` of positive integers `resolution`, a multiple of 16, and `templates`); throws a
 * `ConfigError` naming what is missing. `where` prefixes the message.
 */
export function assertTrackingNetwork(value: unknown, where: string): asserts value is TrackingNetwork {
  if (value === null || typeof value !== 'object') {
    throw new ConfigError(`${where}: expected a tracking network (a Module), got ${String(value)}`);
  }
  const v = value as Record<string, unknown>;
  const missing = METHODS.filter((m) => typeof v[m] !== 'function');
  if (missing.length) {
    throw new ConfigError(
      `${where}: not a tracking network: no ${missing.join(', ')} method(s) (a Module of @spiketrack/neurons with encodeTemplates and trackFrame, see TrackingNetwork)`,
    );
  }
  const config = v.config as Partial<TrackingNetworkConfig> | undefined;
  const r = config?.resolution;
  const t = config?.templates;
  if (
    typeof r !== 'number' ||
    !Number.isInteger(r) ||
    r < 16 ||
    r % 16 !== 0 ||
    typeof t !== 'number' ||
    !Number.isInteger(t) ||
    t < 1
  ) {
    throw new ConfigError(
      `${where}: the network's config must hold resolution (a positive multiple of 16) and templates (a positive integer), got ${JSON.stringify(config ? { resolution: r, templates: t } : config)}`,
    );
  }
}

/** Whether `value` is a {@link TrackingNetwork} (see {@link assertTrackingNetwork}). */
export function isTrackingNetwork(value: unknown): value is TrackingNetwork {
  try {
    assertTrackingNetwork(value, 'isTrackingNetwork');
    return true;
  } catch {
    return false;
  }
}

/**
 * Templates as one time-first tensor `[T, B, R, R, C]` (a new tensor; the caller disposes it).
 * `where` names the caller in the `ShapeError` a bad input throws.
 */
export function toTemplateTensor(templates: TemplateInput, where = 'templates'): tf.Tensor {
  if (Array.isArray(templates)) {
    if (templates.length === 0)
      throw new ShapeError(`${where}: expected at least one template, got an empty list`);
    return tf.tidy(() =>
      tf.concat(
        templates.map((t, i) => {
          if (!(t instanceof tf.Tensor) || (t.rank !== 4 && !(t.rank === 5 && t.shape[0] === 1))) {
            throw new ShapeError(
              `${where}[${i}]: expected [B, R, R, C] or [1, B, R, R, C], got ${t instanceof tf.Tensor ? formatShape(t.shape) : typeof t}`,
            );
          }
          return t.rank === 4 ? tf.expandDims(t, 0) : t;
        }),
        0,
      ),
    );
  }
  const t = templates as tf.Tensor;
  if (!(t instanceof tf.Tensor) || (t.rank !== 4 && t.rank !== 5)) {
    throw new ShapeError(
      `${where}: expected [T, B, R, R, C], [B, R, R, C] or a list of them, got ${t instanceof tf.Tensor ? formatShape(t.shape) : typeof t}`,
    );
  }
  return t.rank === 4 ? tf.expandDims(t, 0) : tf.clone(t);
}

/** The search image as `[1, B, R, R, C]` (a new tensor; the caller disposes it). */
export function toSearchTensor(search: tf.Tensor, where = 'search'): tf.Tensor {
  if (
    !(search instanceof tf.Tensor) ||
    !(search.rank === 4 || (search.rank === 5 && search.shape[0] === 1))
  ) {
    throw new ShapeError(
      `${where}: expected the search image of shape [B, R, R, C] or [1, B, R, R, C], got ${search instanceof tf.Tensor ? formatShape(search.shape) : typeof search}`,
    );
  }
  return search.rank === 4 ? tf.expandDims(search, 0) : tf.clone(search);
}
