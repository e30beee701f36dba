import { ConfigError } from '@spiketrack/neurons';

/** The named template-update settings of the reference's test configs. */
export type TrackerPreset = 'default' | 'lasot';

/**
 * The update interval and confidence threshold of each preset
 * (`experiments/spiketrack/*.yaml` `TEST.UPDATE_INTERVALS` / `TEST.UPDATE_THRESHOLD`, per dataset
 * in `lib/test/parameter/spiketrack.py`): 25 / 0.7 by default, 40 / 0.8 on LaSOT.
 */
export const TRACKER_PRESETS: Readonly<
  Record<TrackerPreset, Readonly<{ updateInterval: number; updateThreshold: number }>>
> = Object.freeze({
  default: Object.freeze({ updateInterval: 25, updateThreshold: 0.7 }),
  lasot: Object.freeze({ updateInterval: 40, updateThreshold: 0.8 }),
});

/** The tracker's parameters (the reference's `params` of `lib/test/tracker/spiketrack.py`). */
export interface TrackerParams {
  /** The search crop size R (`TEST.SEARCH_SIZE`): the network's resolution. */
  searchSize: number;
  /** The search area factor (`TEST.SEARCH_FACTOR`, 4.0). */
  searchFactor: number;
  /** The template crop size (`TEST.TEMPLATE_SIZE`; the templates share the search's size, R). */
  templateSize: number;
  /** The template area factor (`TEST.TEMPLATE_FACTOR`, 4.0). */
  templateFactor: number;
  /** T, the number of template slots (`DATA.TEMPLATE.NUMBER`). */
  numTemplates: number;
  /** Update the templates on frames whose index is a multiple of this (`TEST.UPDATE_INTERVALS`). */
  updateInterval: number;
  /** … and whose confidence exceeds this (`TEST.UPDATE_THRESHOLD`). */
  updateThreshold: number;
  /** `clip_box` margin in pixels (10 in the reference tracker). */
  margin: number;
}

/** Options that override the defaults of {@link resolveTrackerParams}. */
export type TrackerParamsInput = Partial<TrackerParams> & { preset?: TrackerPreset };

/**
 * Complete, checked tracker parameters for a network of resolution `resolution` with
 * `numTemplates` templates: factors 4, template size = search size = R, margin 10, and the
 * update interval and threshold of the preset (default `'default'`), each overridable.
 */
export function resolveTrackerParams(
  resolution: number,
  numTemplates: number,
  input: TrackerParamsInput = {},
): TrackerParams {
  const preset = input.preset ?? 'default';
  if (!Object.hasOwn(TRACKER_PRESETS, preset)) {
    throw new ConfigError(`Tracker: unknown preset '${String(preset)}' (expected default or lasot)`);
  }
  const p: TrackerParams = {
    searchSize: input.searchSize ?? resolution,
    searchFactor: input.searchFactor ?? 4,
    templateSize: input.templateSize ?? resolution,
    templateFactor: input.templateFactor ?? 4,
    numTemplates: input.numTemplates ?? numTemplates,
    updateInterval: input.updateInterval ?? TRACKER_PRESETS[preset].updateInterval,
    updateThreshold: input.updateThreshold ?? TRACKER_PRESETS[preset].updateThreshold,
    margin: input.margin ?? 10,
  };
  for (const k of ['searchSize', 'templateSize', 'numTemplates', 'updateInterval'] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 1) {
      throw new ConfigError(`Tracker: ${k} must be a positive integer, got ${String(p[k])}`);
    }
  }
  for (const k of ['searchFactor', 'templateFactor'] as const) {
    if (typeof p[k] !== 'number' || !(p[k] > 0) || !Number.isFinite(p[k])) {
      throw new ConfigError(`Tracker: ${k} must be a positive number, got ${String(p[k])}`);
    }
  }
  if (typeof p.updateThreshold !== 'number' || Number.isNaN(p.updateThreshold)) {
    throw new ConfigError(`Tracker: updateThreshold must be a number, got ${String(p.updateThreshold)}`);
  }
  if (typeof p.margin !== 'number' || !(p.margin >= 0) || !Number.isFinite(p.margin)) {
    throw new ConfigError(`Tracker: margin must be a non-negative number, got ${String(p.margin)}`);
  }
  return p;
}
