/** A rectangle of whole pixels: columns `[x0, x1)` and rows `[y0, y1)` (ends exclusive). */
export interface PixelRegion {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** The whole of a `width × height` frame. */
export function fullRegion(width: number, height: number): PixelRegion {
  return { x0: 0, y0: 0, x1: width, y1: height };
}

/**
 * `r` clipped to a `width × height` frame, with its corners rounded outwards to whole pixels. An
 * empty result has `x1 = x0` or `y1 = y0`.
 */
export function clipRegion(r: PixelRegion, width: number, height: number): PixelRegion {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const x0 = clamp(Math.floor(r.x0), 0, width);
  const y0 = clamp(Math.floor(r.y0), 0, height);
  return {
    x0,
    y0,
    x1: clamp(Math.ceil(r.x1), x0, width),
    y1: clamp(Math.ceil(r.y1), y0, height),
  };
}
