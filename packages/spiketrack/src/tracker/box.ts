import { ShapeError } from '@spiketrack/neurons';

/** A box `[x, y, w, h]` in pixels: top-left corner, width and height (the reference's `xywh`). */
export type Box = readonly [x: number, y: number, w: number, h: number];

/**
 * Checks a box given by a caller: four finite numbers, `w > 0`, `h > 0`, and, when the frame
 * size is given, overlapping the frame. Returns a copy.
 */
export function checkBox(box: unknown, where: string, frame?: { width: number; height: number }): Box {
  if (!Array.isArray(box) && !ArrayBuffer.isView(box)) {
    throw new ShapeError(`${where}: expected a box [x, y, w, h], got ${typeof box}`);
  }
  const b = Array.from(box as ArrayLike<unknown>);
  if (b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ShapeError(
      `${where}: expected a box of four finite numbers [x, y, w, h], got [${b.join(', ')}]`,
    );
  }
  const [x, y, w, h] = b as [number, number, number, number];
  if (!(w > 0 && h > 0)) {
    throw new ShapeError(
      `${where}: the box [${b.join(', ')}] has zero or negative size (w = ${w}, h = ${h})`,
    );
  }
  if (frame && (x >= frame.width || y >= frame.height || x + w <= 0 || y + h <= 0)) {
    throw new ShapeError(
      `${where}: the box [${b.join(', ')}] lies outside the ${frame.width} × ${frame.height} frame`,
    );
  }
  return [x, y, w, h];
}

/**
 * The reference's `SPIKETRACK.map_box_back` (`lib/test/tracker/spiketrack.py`): a box
 * `[cx, cy, w, h]` in pixels of the resized search crop, scaled back to frame pixels by the
 * caller (`· search_size / resize_factor`), placed relative to the previous state's centre:
 * `cx_real = cx + (cx_prev − half_side)` with `half_side = 0.5 · search_size / resize_factor`.
 * Returns `[x, y, w, h]` in frame pixels.
 */
export function mapBoxBack(
  predBox: readonly [number, number, number, number],
  previous: Box,
  searchSize: number,
  resizeFactor: number,
): Box {
  const cxPrev = previous[0] + 0.5 * previous[2];
  const cyPrev = previous[1] + 0.5 * previous[3];
  const [cx, cy, w, h] = predBox;
  const halfSide = (0.5 * searchSize) / resizeFactor;
  const cxReal = cx + (cxPrev - halfSide);
  const cyReal = cy + (cyPrev - halfSide);
  return [cxReal - 0.5 * w, cyReal - 0.5 * h, w, h];
}

/**
 * The reference's `clip_box(box, H, W, margin)` (`lib/utils/box_ops.py`): clips the corners into
 * the frame, keeping at least `margin` pixels of the box inside it and a size of at least
 * `margin` (the tracker uses margin 10): `x1 = min(max(0, x1), W − margin)`,
 * `x2 = min(max(margin, x2), W)`, `w = max(margin, x2 − x1)`, likewise for y.
 */
export function clipBox(box: Box, height: number, width: number, margin = 0): Box {
  const [bx, by, bw, bh] = box;
  let x1 = bx;
  let y1 = by;
  let x2 = bx + bw;
  let y2 = by + bh;
  x1 = Math.min(Math.max(0, x1), width - margin);
  x2 = Math.min(Math.max(margin, x2), width);
  y1 = Math.min(Math.max(0, y1), height - margin);
  y2 = Math.min(Math.max(margin, y2), height);
  return [x1, y1, Math.max(margin, x2 - x1), Math.max(margin, y2 - y1)];
}
