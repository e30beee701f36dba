import { ShapeError } from '@spiketrack/neurons';
import { type RgbImage, assertRgbImage } from '../frames/rgb-image';
import { resizeLinearU8 } from '../frames/resize-linear';
import type { Box } from './box';

/** Where {@link sampleTarget} cut the square crop, in frame pixels (the reference's local names). */
export interface CropGeometry {
  /** The side of the square crop before resizing: `ceil(sqrt(w·h) · factor)`. */
  cropSize: number;
  /** Top-left corner of the crop (may be negative). */
  x1: number;
  y1: number;
  /** Zero padding on each side (see {@link sampleTarget} for the right/bottom quirk). */
  x1Pad: number;
  x2Pad: number;
  y1Pad: number;
  y2Pad: number;
}

/** What {@link sampleTarget} returns. */
export interface SampledTarget {
  /** The crop, resized to `outputSize × outputSize`, RGB uint8. */
  crop: RgbImage;
  /** `outputSize / cropSize`. */
  resizeFactor: number;
  geometry: CropGeometry;
}

/** Python's `round()` on a float: round half to even. */
export function pythonRound(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The side of the square crop around `box` at `factor`: the reference's `ceil(sqrt(w·h)·factor)`. */
export function cropSizeOf(box: Box, factor: number): number {
  return Math.ceil(Math.sqrt(box[2] * box[3]) * factor);
}

/** The crop geometry of {@link sampleTarget} alone. */
export function cropGeometry(box: Box, factor: number, width: number, height: number): CropGeometry {
  const [x, y, w, h] = box;
  const cropSize = cropSizeOf(box, factor);
  if (!(cropSize >= 1)) {
    throw new ShapeError(
      `sampleTarget: the box [${box.join(', ')}] is too small (crop size ${cropSize} at factor ${factor})`,
    );
  }
  const x1 = pythonRound(x + 0.5 * w - cropSize * 0.5);
  const y1 = pythonRound(y + 0.5 * h - cropSize * 0.5);
  const x2 = x1 + cropSize;
  const y2 = y1 + cropSize;
  return {
    cropSize,
    x1,
    y1,
    x1Pad: Math.max(0, -x1),
    // The reference's off-by-one: `x2 − W + 1`, so a crop that reaches the last column drops it.
    x2Pad: Math.max(x2 - width + 1, 0),
    y1Pad: Math.max(0, -y1),
    y2Pad: Math.max(y2 - height + 1, 0),
  };
}

/**
 * The reference's `sample_target(im, target_bb, search_area_factor, output_sz)`
 * (`lib/train/data/processing_utils.py`, also `lib/test/tracker/seqtrack_utils.py`), exactly:
 * - a square of side `crop_sz = ceil(sqrt(w·h)·factor)` centred on the box, its corner
 *   `x1 = round(x + w/2 − crop_sz/2)` with Python's half-to-even `round`;
 * - the image part `im[y1 + y1_pad : y2 − y2_pad, x1 + x1_pad : x2 − x2_pad]`, zero-padded back to
 *   `crop_sz` (`cv2.copyMakeBorder`, `BORDER_CONSTANT`), with the reference's quirk
 *   `x2_pad = max(x2 − W + 1, 0)` (and `y2_pad`): when the crop reaches the right (bottom) edge, the
 *   last image column (row) is dropped and zero-padded instead;
 * - `cv2.resize` to `output_sz × output_sz` with `INTER_LINEAR` on uint8 ({@link resizeLinearU8}),
 *   and `resize_factor = output_sz / crop_sz`.
 *
 * Where the reference's slice would be empty (a crop wholly outside the image, which the tracker's
 * clipping never produces), the crop here is all zeros rather than Python's wrap-around indexing.
 */
export function sampleTarget(image: RgbImage, box: Box, factor: number, outputSize: number): SampledTarget {
  assertRgbImage(image, 'sampleTarget: image');
  if (!Number.isInteger(outputSize) || outputSize < 1) {
    throw new ShapeError(`sampleTarget: output size must be a positive integer, got ${outputSize}`);
  }
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new ShapeError(`sampleTarget: the search area factor must be a positive number, got ${factor}`);
  }
  if (!box.every((v) => Number.isFinite(v))) {
    throw new ShapeError(`sampleTarget: the box [${box.join(', ')}] holds non-finite values`);
  }
  const { width: W, height: H, data } = image;
  const g = cropGeometry(box, factor, W, H);
  const n = g.cropSize;
  const padded = new Uint8Array(n * n * 3);
  // Rows/columns of the image kept: [y1 + y1_pad, y2 − y2_pad) and [x1 + x1_pad, x2 − x2_pad).
  const r0 = g.y1 + g.y1Pad;
  const r1 = Math.min(g.y1 + n - g.y2Pad, H);
  const c0 = g.x1 + g.x1Pad;
  const c1 = Math.min(g.x1 + n - g.x2Pad, W);
  if (c1 > c0) {
    for (let r = r0; r < r1; r++) {
      const src = (r * W + c0) * 3;
      padded.set(data.subarray(src, src + (c1 - c0) * 3), ((r - g.y1) * n + (c0 - g.x1)) * 3);
    }
  }
  const crop = resizeLinearU8(padded, n, n, 3, outputSize, outputSize);
  return {
    crop: { width: outputSize, height: outputSize, data: crop },
    resizeFactor: outputSize / n,
    geometry: g,
  };
}
