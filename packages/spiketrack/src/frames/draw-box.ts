import type { RgbImage } from './rgb-image';

/** Options of {@link drawBox}. */
export interface DrawBoxOptions {
  /** RGB colour (default red `[255, 0, 0]`). */
  color?: readonly [number, number, number];
  /** Line width in pixels (default 2), drawn inside the box. */
  thickness?: number;
}

/**
 * A copy of `image` with the outline of the box `[x, y, w, h]` drawn on it (pixel edges rounded to
 * the nearest integer, clipped to the image). For annotated output frames.
 */
export function drawBox(
  image: RgbImage,
  box: readonly [number, number, number, number],
  opts: DrawBoxOptions = {},
): RgbImage {
  const { width: W, height: H } = image;
  const data = Uint8Array.from(image.data);
  const [r, g, b] = opts.color ?? [255, 0, 0];
  const t = Math.max(1, Math.round(opts.thickness ?? 2));
  const x0 = Math.round(box[0]);
  const y0 = Math.round(box[1]);
  const x1 = Math.round(box[0] + box[2]) - 1;
  const y1 = Math.round(box[1] + box[3]) - 1;
  const put = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const p = (y * W + x) * 3;
    data[p] = r;
    data[p + 1] = g;
    data[p + 2] = b;
  };
  for (let k = 0; k < t; k++) {
    for (let x = x0; x <= x1; x++) {
      put(x, y0 + k);
      put(x, y1 - k);
    }
    for (let y = y0; y <= y1; y++) {
      put(x0 + k, y);
      put(x1 - k, y);
    }
  }
  return { width: W, height: H, data };
}
