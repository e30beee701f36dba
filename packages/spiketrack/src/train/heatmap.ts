/**
 * The training target of the center branch: the reference's `generate_heatmap`, a CenterNet
 * Gaussian per ground-truth box on the `F × F` score grid (`lib/utils/heapmap_utils.py`,
 * `CenterNetHeatMap`). Computed in JavaScript with float32 rounding where the reference computes
 * in float32, so the map (and its exact 1 at the center) is the reference's.
 */
import { ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';

const f32 = Math.fround;

/** Options of {@link generateHeatmap}. */
export interface HeatmapOptions {
  /** The score map size F (the reference: search size / stride, e.g. 256 / 16 = 16). */
  featSize: number;
  /** CenterNet's minimum overlap for the radius (default 0.7, as the reference). */
  minOverlap?: number;
}

/**
 * CornerNet's Gaussian radius of a box of `width × height` grid cells, as the reference computes
 * it (CenterNet's "bug version": the smallest of three quadratic roots), in float32, before the
 * truncation to an integer.
 */
export function gaussianRadius(width: number, height: number, minOverlap = 0.7): number {
  const w = f32(width);
  const h = f32(height);
  const sum = f32(h + w);
  const wh = f32(w * h);
  // (b ± sqrt(b² − 4ac)) / 2 in float32, with the constants rounded to float32 as torch does.
  const root = (b: number, fourAC: number) => f32(f32(b + f32(Math.sqrt(f32(f32(b * b) - fourAC)))) / 2);
  const c1 = f32(f32(wh * f32(1 - minOverlap)) / f32(1 + minOverlap));
  const r1 = root(sum, f32(4 * c1));
  const c2 = f32(f32(f32(1 - minOverlap) * w) * h);
  const r2 = root(f32(2 * sum), f32(16 * c2));
  const c3 = f32(f32(f32(minOverlap - 1) * w) * h);
  const r3 = root(f32(f32(-2 * minOverlap) * sum), f32(f32(4 * 4 * minOverlap) * c3));
  return Math.min(r1, Math.min(r2, r3));
}

/** `round` half to even, as torch's `Tensor.round`. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Draws the Gaussian of integer `radius` (σ = (2r + 1) / 6, tails below float64 eps cut to 0,
 * stored as float32) centred on cell `(cx, cy)` into `map` (`F × F`, row-major), keeping the
 * larger value where it overlaps; cells outside the map are dropped.
 */
function drawGaussian(map: Float32Array, f: number, cx: number, cy: number, radius: number): void {
  const sigma = (2 * radius + 1) / 6;
  for (let dy = -radius; dy <= radius; dy++) {
    const y = cy + dy;
    if (y < 0 || y >= f) continue;
    for (let dx = -radius; dx <= radius; dx++) {
      const x = cx + dx;
      if (x < 0 || x >= f) continue;
      const g64 = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
      const g = g64 < Number.EPSILON ? 0 : f32(g64);
      const i = y * f + x;
      if (g > map[i]!) map[i] = g;
    }
  }
}

/** The float32 Gaussian target of one box `(x, y, w, h)` (fractions of the crop) on an `F × F` grid. */
export function heatmapValues(box: ArrayLike<number>, featSize: number, minOverlap = 0.7): Float32Array {
  const map = new Float32Array(featSize * featSize);
  const [x, y, w, h] = [0, 1, 2, 3].map((k) => f32(f32(box[k]!) * featSize)) as [
    number,
    number,
    number,
    number,
  ];
  const cx = roundHalfEven(f32(x + f32(w / 2)));
  const cy = roundHalfEven(f32(y + f32(h / 2)));
  const radius = Math.trunc(Math.max(gaussianRadius(w, h, minOverlap), 0));
  if (!Number.isFinite(radius)) return map;
  drawGaussian(map, featSize, cx, cy, radius);
  return map;
}

/**
 * The reference's `generate_heatmap` for one search frame: for each ground-truth box
 * `[B, 4]` (x, y, w, h as fractions of the search crop, the reference's `search_anno`), a Gaussian
 * around the box centre cell with CenterNet's radius (min overlap 0.7), peak exactly 1.
 * Returns `[B, F, F, 1]` (NHWC, as the head's `scoreMap`). Reads the boxes synchronously; the
 * result is a constant target (no gradient).
 */
export function generateHeatmap(gtXywh: tf.Tensor, options: HeatmapOptions): tf.Tensor4D {
  const f = options.featSize;
  if (!Number.isInteger(f) || f < 1) {
    throw new ShapeError(`generateHeatmap: featSize must be a positive integer, got ${f}`);
  }
  if (gtXywh.rank !== 2 || gtXywh.shape[1] !== 4) {
    throw new ShapeError(
      `generateHeatmap: expected boxes of shape [B, 4] (x, y, w, h), got [${gtXywh.shape.join(', ')}]`,
    );
  }
  const b = gtXywh.shape[0]!;
  const boxes = gtXywh.dataSync();
  const out = new Float32Array(b * f * f);
  for (let i = 0; i < b; i++) {
    out.set(heatmapValues(boxes.subarray(i * 4, i * 4 + 4), f, options.minOverlap), i * f * f);
  }
  return tf.tensor4d(out, [b, f, f, 1]);
}
