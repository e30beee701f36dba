import { ConfigError } from '@spiketrack/neurons';
import type { RgbImage } from '../frames/rgb-image';
import { fullRegion, type PixelRegion } from '../synthetic/pixel-region';
import { Prng } from '../synthetic/prng';
import type { Box } from '../tracker/box';
import { normalizeCrop } from '../tracker/preprocess';
import { cropGeometry, cropSizeOf, sampleTarget } from '../tracker/sample-target';

/**
 * One training sequence, whatever it is stored in: the synthetic generator, or a dataset reader
 * (GOT-10k, LaSOT, …) with its frames decoded on demand.
 */
export interface TrainingSequence {
  readonly name: string;
  /** Number of frames. */
  readonly length: number;
  /** Ground-truth box (x, y, w, h, pixels) of frame `i`. */
  box(i: number): Box;
  /** Whether the target is visible in frame `i` (and its box valid). */
  visible(i: number): boolean;
  /** The frame's pixels. */
  frame(i: number): RgbImage | Promise<RgbImage>;
  /**
   * Optional, with {@link TrainingSequence.frameRegion}: frame `i`'s size, known without its pixels.
   * The sampler then computes the part of the frame its crop reads before asking for pixels.
   */
  frameSize?(i: number): { width: number; height: number };
  /**
   * Optional, with {@link TrainingSequence.frameSize}: frame `i` as a whole-frame image of which only
   * the pixels inside `region` count (they must equal {@link TrainingSequence.frame}'s; the others
   * may be anything, e.g. 0). For sequences that can make part of a frame cheaper than all of it.
   */
  frameRegion?(i: number, region: PixelRegion): RgbImage | Promise<RgbImage>;
}

/** Options of {@link TrainingSampler}; the defaults are SpikeTrack's training settings. */
export interface SamplerOptions {
  /** Templates per sample, the template branch's timesteps (T). */
  numTemplates: number;
  /** Crop size R of templates and search (the network's resolution). */
  resolution: number;
  /** Largest frame gap between the templates and the search frame (default 400). */
  maxGap?: number;
  /** Crop factor of the search region (default 4). */
  searchFactor?: number;
  /** Crop factor of the templates (default 4: SpikeTrack crops templates like the search). */
  templateFactor?: number;
  /** Centre jitter of the search crop, in units of sqrt(w·h) (default 3.5). */
  centerJitter?: number;
  /** Log-normal scale jitter of the search crop (default 0.5). */
  scaleJitter?: number;
  /** The same two for the templates (default 0, 0). */
  templateCenterJitter?: number;
  templateScaleJitter?: number;
  /** Probability of turning a whole sample grayscale (default 0.05, joint over its frames). */
  grayscaleProbability?: number;
  /** Probability of flipping a whole sample horizontally (default 0.5, joint over its frames). */
  flipProbability?: number;
  /** Brightness factors are uniform in [1 − b, 1 + b] (default 0.2): one for the templates, one for the search. */
  brightnessJitter?: number;
  /** Seed of the whole stream: sample `k` depends only on the seed and `k`. */
  seed?: number;
}

/** One training example, channels last and normalized as the network takes it. */
export interface TrainingSample {
  /** `T` template crops, each `R·R·3` floats (ImageNet-normalized, HWC). */
  templates: Float32Array[];
  /** The search crop, `R·R·3` floats. */
  search: Float32Array;
  /** The target's box in the search crop, (x, y, w, h) as fractions of R. */
  searchBox: Box;
  /** The targets' boxes in the template crops, as fractions of R. */
  templateBoxes: Box[];
  /** Where it came from (for logs and reproducibility). */
  source: {
    sequence: string;
    templateFrames: number[];
    searchFrame: number;
    flipped: boolean;
    gray: boolean;
  };
}

const DEFAULTS = {
  maxGap: 400,
  searchFactor: 4,
  templateFactor: 4,
  centerJitter: 3.5,
  scaleJitter: 0.5,
  templateCenterJitter: 0,
  templateScaleJitter: 0,
  grayscaleProbability: 0.05,
  flipProbability: 0.5,
  brightnessJitter: 0.2,
  seed: 0,
};

type Resolved = Required<SamplerOptions>;

/** A standard normal number from two uniforms (Box–Muller). */
function gaussian(rng: Prng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * `count` visible frame ids in `[min, max)`, each uniform among the visible ones (with
 * repetition), as the reference's `_sample_visible_ids` (`lib/train/data/sampler.py`); `null` when
 * none is visible. Draws by rejection first, so that `visible` is asked about a few frames only
 * (it may be costly, e.g. rendering a synthetic frame), then falls back to listing the range.
 */
function sampleVisibleIds(
  seq: TrainingSequence,
  count: number,
  min: number,
  max: number,
  rng: Prng,
): number[] | null {
  if (count === 0) return [];
  const lo = Math.max(0, min);
  const hi = Math.min(seq.length, max);
  if (hi <= lo) return null;
  const out: number[] = [];
  for (let tries = 0; out.length < count && tries < 16 * count; tries++) {
    const i = rng.int(lo, hi - 1);
    if (seq.visible(i)) out.push(i);
  }
  if (out.length === count) return out;
  const ids: number[] = [];
  for (let i = lo; i < hi; i++) if (seq.visible(i)) ids.push(i);
  if (ids.length === 0) return null;
  while (out.length < count) out.push(ids[rng.int(0, ids.length - 1)] as number);
  return out;
}

/**
 * The jittered box the reference crops around (`STARKProcessing._get_jittered_box`):
 * `wh' = wh · exp(N(0,1)·scale)`, centre moved by `sqrt(w'·h')·center·(U(0,1) − 0.5)` per axis.
 */
export function jitterBox(box: Box, center: number, scale: number, rng: Prng): Box {
  const [x, y, w, h] = box;
  const w2 = w * Math.exp(gaussian(rng) * scale);
  const h2 = h * Math.exp(gaussian(rng) * scale);
  const maxOffset = Math.sqrt(w2 * h2) * center;
  const cx = x + w / 2 + maxOffset * (rng.next() - 0.5);
  const cy = y + h / 2 + maxOffset * (rng.next() - 0.5);
  return [cx - w2 / 2, cy - h2 / 2, w2, h2];
}

/**
 * The reference's `transform_image_to_crop` (normalized): where `box` lands in the crop cut
 * around `cropBox` and resized by `resizeFactor` to `cropSize`, as fractions of `cropSize`.
 */
export function boxInCrop(box: Box, cropBox: Box, resizeFactor: number, cropSize: number): Box {
  const ecx = cropBox[0] + 0.5 * cropBox[2];
  const ecy = cropBox[1] + 0.5 * cropBox[3];
  const cx = (cropSize - 1) / 2 + (box[0] + 0.5 * box[2] - ecx) * resizeFactor;
  const cy = (cropSize - 1) / 2 + (box[1] + 0.5 * box[3] - ecy) * resizeFactor;
  const w = box[2] * resizeFactor;
  const h = box[3] * resizeFactor;
  return [(cx - w / 2) / cropSize, (cy - h / 2) / cropSize, w / cropSize, h / cropSize];
}

/**
 * The pixels {@link sampleTarget} reads from a `width × height` image when cropping around `box` at
 * `factor` (its rows `[y1 + y1_pad, y2 − y2_pad)` and columns `[x1 + x1_pad, x2 − x2_pad)`, within the
 * image); the whole image for a box it rejects, so that it reports the problem.
 */
export function cropReadRegion(box: Box, factor: number, width: number, height: number): PixelRegion {
  const cropSize = cropSizeOf(box, factor);
  if (!box.every((v) => Number.isFinite(v)) || !(cropSize >= 1)) return fullRegion(width, height);
  const g = cropGeometry(box, factor, width, height);
  const x0 = Math.min(g.x1 + g.x1Pad, width);
  const y0 = Math.min(g.y1 + g.y1Pad, height);
  return {
    x0,
    y0,
    x1: Math.max(x0, Math.min(g.x1 + cropSize - g.x2Pad, width)),
    y1: Math.max(y0, Math.min(g.y1 + cropSize - g.y2Pad, height)),
  };
}

/** `region` of a `width`-wide image, mirrored left-right. */
function mirrorRegion(region: PixelRegion, width: number): PixelRegion {
  return { x0: width - region.x1, y0: region.y0, x1: width - region.x0, y1: region.y1 };
}

/** Flips `region` of an image left-right (a new image, 0 outside the mirrored region). */
function flipImage(img: RgbImage, region: PixelRegion): RgbImage {
  const { width: W, height: H, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = region.y0; y < region.y1; y++) {
    const row = y * W * 3;
    for (let x = region.x0; x < region.x1; x++) {
      const s = row + x * 3;
      const d = row + (W - 1 - x) * 3;
      out[d] = data[s] as number;
      out[d + 1] = data[s + 1] as number;
      out[d + 2] = data[s + 2] as number;
    }
  }
  return { width: W, height: H, data: out };
}

/**
 * Grayscale with OpenCV's `RGB2GRAY` weights (0.299, 0.587, 0.114), replicated to 3 channels, of
 * `region` of an image (a new image, 0 outside the region).
 */
function grayImage(img: RgbImage, region: PixelRegion): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let y = region.y0; y < region.y1; y++) {
    for (let i = (y * img.width + region.x0) * 3; i < (y * img.width + region.x1) * 3; i += 3) {
      const g = Math.round(
        0.299 * (src[i] as number) + 0.587 * (src[i + 1] as number) + 0.114 * (src[i + 2] as number),
      );
      out[i] = g;
      out[i + 1] = g;
      out[i + 2] = g;
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/**
 * Brightness jitter as the reference's `ToTensorAndJitter`: the image in [0, 1] times `factor`,
 * clamped to [0, 1], then normalized with the ImageNet statistics (applied to a normalized crop,
 * so the factor acts on `v/255`).
 */
function brightness(crop: RgbImage, factor: number): Float32Array {
  if (factor === 1) return normalizeCrop(crop);
  const scaled = new Uint8Array(crop.data.length);
  // Rounding to bytes keeps the normalization exact and shared; the error is ≤ 0.5/255.
  for (let i = 0; i < scaled.length; i++)
    scaled[i] = Math.min(255, Math.round((crop.data[i] as number) * factor));
  return normalizeCrop({ width: crop.width, height: crop.height, data: scaled });
}

/**
 * Draws training samples from sequences as SpikeTrack's sampler and processing do
 * (`lib/train/data/sampler.py` in causal mode, `lib/train/data/processing.py`):
 * - a sequence uniformly at random, then a base template frame, T − 1 earlier templates within
 *   `maxGap` of it, and a search frame after the first template, within `maxGap` (the gap grows by
 *   5 whenever no visible frame qualifies);
 * - joint augmentation of the whole sample: grayscale with p 0.05, a horizontal flip with p 0.5;
 * - crops with `sample_target` around boxes jittered by centre 3.5 / scale 0.5 (search) and
 *   0 / 0 (templates), at factor 4, resized to R; brightness jitter 0.2; ImageNet normalization.
 *
 * Deterministic: sample `k` of a seed is the same on every run, whatever was drawn before.
 */
export class TrainingSampler {
  readonly options: Resolved;

  constructor(
    readonly sequences: readonly TrainingSequence[],
    options: SamplerOptions,
  ) {
    this.options = { ...DEFAULTS, ...options } as Resolved;
    const o = this.options;
    if (!Number.isInteger(o.numTemplates) || o.numTemplates < 1) {
      throw new ConfigError(
        `TrainingSampler: numTemplates must be a positive integer, got ${o.numTemplates}`,
      );
    }
    if (!Number.isInteger(o.resolution) || o.resolution < 16) {
      throw new ConfigError(`TrainingSampler: resolution must be an integer ≥ 16, got ${o.resolution}`);
    }
    if (sequences.length === 0) throw new ConfigError('TrainingSampler: no training sequences');
    const usable = sequences.filter((s) => s.length >= 2);
    if (usable.length === 0) throw new ConfigError('TrainingSampler: every sequence has fewer than 2 frames');
  }

  /** Sample number `index` of this sampler's seed. */
  async sample(index: number): Promise<TrainingSample> {
    const o = this.options;
    const rng = new Prng(o.seed).fork(index);
    for (let attempt = 0; attempt < 100; attempt++) {
      const seq = this.sequences[rng.int(0, this.sequences.length - 1)] as TrainingSequence;
      if (seq.length < 2) continue;
      const picked = this.pickFrames(seq, rng);
      if (!picked) continue;
      return this.build(seq, picked.templates, picked.search, rng);
    }
    throw new ConfigError('TrainingSampler: found no sequence with enough visible frames in 100 tries');
  }

  /** The reference's causal frame choice, or `null` if this sequence has too few visible frames. */
  private pickFrames(seq: TrainingSequence, rng: Prng): { templates: number[]; search: number } | null {
    const T = this.options.numTemplates;
    const maxGap = this.options.maxGap;
    let gapIncrease = 0;
    for (let tries = 0; tries < 50; tries++) {
      const base = sampleVisibleIds(seq, 1, T - 1, seq.length - 1, rng);
      if (!base) return null;
      const b = base[0] as number;
      const prev = sampleVisibleIds(seq, T - 1, b - maxGap - gapIncrease, b, rng);
      if (!prev) {
        gapIncrease += 5;
        continue;
      }
      const templates = [b, ...prev];
      const first = templates[0] as number;
      const search = sampleVisibleIds(seq, 1, first + 1, first + maxGap + gapIncrease, rng);
      gapIncrease += 5;
      if (search) return { templates, search: search[0] as number };
    }
    return null;
  }

  private async build(
    seq: TrainingSequence,
    templateIds: number[],
    searchId: number,
    rng: Prng,
  ): Promise<TrainingSample> {
    const o = this.options;
    const gray = rng.next() < o.grayscaleProbability;
    const flipped = rng.next() < o.flipProbability;
    const regional = seq.frameSize !== undefined && seq.frameRegion !== undefined;
    // One frame's crop. With frameRegion, only the pixels the crop reads are rendered, grayed and
    // flipped: the box is jittered first (consuming `rng` as for a whole frame).
    const crop = async (i: number, factor: number, center: number, scale: number, bright: number) => {
      const whole = regional ? null : await seq.frame(i);
      const { width: W, height: H } = whole ?? seq.frameSize!(i);
      let box = seq.box(i);
      if (flipped) box = [W - (box[0] + box[2]), box[1], box[2], box[3]];
      let jittered = jitterBox(box, center, scale, rng);
      // A degenerate jitter (a box shrunk below a pixel) falls back to the true box.
      if (!(cropSizeOf(jittered, factor) >= 1)) jittered = box;
      let region = fullRegion(W, H);
      if (!whole) {
        // What the crop reads, in the frame as stored (mirrored back when flipped).
        const read = cropReadRegion(jittered, factor, W, H);
        region = flipped ? mirrorRegion(read, W) : read;
      }
      let image = whole ?? (await seq.frameRegion!(i, region));
      if (gray) image = grayImage(image, region);
      if (flipped) image = flipImage(image, region);
      const s = sampleTarget(image, jittered, factor, o.resolution);
      return {
        pixels: brightness(s.crop, bright),
        box: boxInCrop(box, jittered, s.resizeFactor, o.resolution),
      };
    };
    const b = o.brightnessJitter;
    const templateBright = rng.uniform(Math.max(0, 1 - b), 1 + b);
    const searchBright = rng.uniform(Math.max(0, 1 - b), 1 + b);
    const templates: Float32Array[] = [];
    const templateBoxes: Box[] = [];
    for (const id of templateIds) {
      const c = await crop(
        id,
        o.templateFactor,
        o.templateCenterJitter,
        o.templateScaleJitter,
        templateBright,
      );
      templates.push(c.pixels);
      templateBoxes.push(c.box);
    }
    const s = await crop(searchId, o.searchFactor, o.centerJitter, o.scaleJitter, searchBright);
    return {
      templates,
      search: s.pixels,
      searchBox: s.box,
      templateBoxes,
      source: { sequence: seq.name, templateFrames: templateIds, searchFrame: searchId, flipped, gray },
    };
  }
}
