/**
 * Grey-level integral images and exact area resampling.
 *
 * The integral image S(x, y) = Σ of grey values over [0, x) × [0, y) of a piecewise-constant image
 * is bilinear inside each pixel cell, so interpolating S bilinearly at real coordinates gives the
 * exact integral over any real rectangle. Resampling with it averages each output pixel's whole
 * footprint: no aliasing when shrinking, for the cost of four lookups per pixel at any scale.
 */
import type { RgbImage } from '../frames/rgb-image';

/** The integral of an image's grey levels (BT.601 luma, 0–255), `(width + 1) × (height + 1)`. */
export interface GreyIntegral {
  readonly width: number;
  readonly height: number;
  /** Row-major, stride `width + 1`; entry (x, y) is the sum over [0, x) × [0, y). */
  readonly sum: Float64Array;
}

/** Builds the grey-level integral image of an RGB frame. */
export function greyIntegral(image: RgbImage): GreyIntegral {
  const { width: W, height: H, data } = image;
  const stride = W + 1;
  const sum = new Float64Array(stride * (H + 1));
  for (let y = 0; y < H; y++) {
    let row = 0;
    const src = y * W * 3;
    const dst = (y + 1) * stride;
    for (let x = 0; x < W; x++) {
      const p = src + 3 * x;
      row += 0.299 * (data[p] as number) + 0.587 * (data[p + 1] as number) + 0.114 * (data[p + 2] as number);
      sum[dst + x + 1] = (sum[dst - stride + x + 1] as number) + row;
    }
  }
  return { width: W, height: H, sum };
}

/** S at a real point (clamped to the image), by bilinear interpolation of the integral image. */
function at(g: GreyIntegral, x: number, y: number): number {
  const cx = x <= 0 ? 0 : x >= g.width ? g.width : x;
  const cy = y <= 0 ? 0 : y >= g.height ? g.height : y;
  const ix = Math.min(Math.floor(cx), g.width - 1);
  const iy = Math.min(Math.floor(cy), g.height - 1);
  const fx = cx - ix;
  const fy = cy - iy;
  const stride = g.width + 1;
  const i = iy * stride + ix;
  const s = g.sum;
  const top = (s[i] as number) + ((s[i + 1] as number) - (s[i] as number)) * fx;
  const bottom = (s[i + stride] as number) + ((s[i + stride + 1] as number) - (s[i + stride] as number)) * fx;
  return top + (bottom - top) * fy;
}

/** Clamps the interval [a, b] into [0, n]; an interval wholly outside becomes the edge pixel. */
function clampSpan(a: number, b: number, n: number): [number, number] {
  const lo = a < 0 ? 0 : a > n ? n : a;
  const hi = b < 0 ? 0 : b > n ? n : b;
  if (hi - lo > 1e-9) return [lo, hi];
  return b <= 0 ? [0, 1] : [n - 1, n];
}

/**
 * Resamples the rectangle with top-left (x0, y0) and pixel footprint (dx, dy) into `out`
 * (`cols × rows`, row-major): each output pixel is the mean grey level over its footprint. Parts
 * outside the frame take the nearest inside values' mean (edge replication for whole pixels).
 */
export function resampleArea(
  g: GreyIntegral,
  x0: number,
  y0: number,
  dx: number,
  dy: number,
  cols: number,
  rows: number,
  out: Float32Array,
): void {
  const xs = new Float64Array(cols * 2);
  for (let i = 0; i < cols; i++) {
    const [a, b] = clampSpan(x0 + i * dx, x0 + (i + 1) * dx, g.width);
    xs[2 * i] = a;
    xs[2 * i + 1] = b;
  }
  for (let j = 0; j < rows; j++) {
    const [ya, yb] = clampSpan(y0 + j * dy, y0 + (j + 1) * dy, g.height);
    for (let i = 0; i < cols; i++) {
      const xa = xs[2 * i] as number;
      const xb = xs[2 * i + 1] as number;
      const total = at(g, xb, yb) - at(g, xa, yb) - at(g, xb, ya) + at(g, xa, ya);
      out[j * cols + i] = total / ((xb - xa) * (yb - ya));
    }
  }
}
