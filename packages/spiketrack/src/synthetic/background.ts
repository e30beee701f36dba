/**
 * The synthetic background: two fBm fields (one picks the palette colour, one the brightness) plus
 * clutter, rectangles and discs of other colours, so that the target is not the only structure.
 * Drawing it ({@link backgroundScene}) is cheap; its pixels are shaded per region, and
 * {@link BackgroundTiles} shades only the tiles that frames read.
 */
import { clipRegion, fullRegion, type PixelRegion } from './pixel-region';
import type { Prng } from './prng';
import {
  contrast,
  fbmIn,
  fbmLattices,
  type NoiseLattice,
  paletteAt,
  type Rgb,
  randomColor,
  type Texture,
} from './texture';

/** A clutter shape: an axis-aligned ellipse (`disc`) or rectangle with radii `r`, `rh`. */
interface Shape {
  readonly color: Rgb;
  readonly cx: number;
  readonly cy: number;
  readonly r: number;
  readonly rh: number;
  readonly disc: boolean;
  /** The pixels it may touch. */
  readonly bounds: PixelRegion;
}

/** Everything random about a background: what {@link backgroundScene} draws. */
export interface BackgroundScene {
  readonly width: number;
  readonly height: number;
  readonly palette: readonly Rgb[];
  readonly hue: readonly NoiseLattice[];
  readonly light: readonly NoiseLattice[];
  readonly shapes: readonly Shape[];
}

/** Draws a `width × height` background from `prng` (its pixels: {@link shadeBackground}). */
export function backgroundScene(prng: Prng, width: number, height: number): BackgroundScene {
  const palette: Rgb[] = Array.from({ length: 4 }, () => randomColor(prng, false));
  const scale = Math.max(width, height);
  const hue = fbmLattices(prng, width, height, scale / 4, 4);
  const light = fbmLattices(prng, width, height, scale / 10, 4);
  const shapes: Shape[] = [];
  const count = prng.int(12, 24);
  for (let s = 0; s < count; s++) {
    const color = randomColor(prng, prng.next() < 0.3);
    const cx = prng.uniform(0, width);
    const cy = prng.uniform(0, height);
    const r = prng.uniform(0.02, 0.09) * scale;
    const rh = r * prng.uniform(0.4, 1.6);
    const disc = prng.next() < 0.5;
    const bounds = clipRegion({ x0: cx - r, y0: cy - rh, x1: cx + r, y1: cy + rh }, width, height);
    shapes.push({ color, cx, cy, r, rh, disc, bounds });
  }
  return { width, height, palette, hue, light, shapes };
}

/**
 * The background's pixels over `region` (inside the frame): RGB floats, HWC, `x1 − x0` per row.
 * Each pixel depends only on its position, so any region equals that part of the whole.
 */
export function shadeBackground(scene: BackgroundScene, region: PixelRegion): Float32Array {
  const rw = region.x1 - region.x0;
  const hue = fbmIn(scene.hue, region);
  const light = fbmIn(scene.light, region);
  const data = new Float32Array(hue.length * 3);
  for (let i = 0; i < hue.length; i++) {
    const c = paletteAt(scene.palette, contrast(hue[i] as number, 2.2));
    const l = 1 + 1.4 * ((light[i] as number) - 0.5);
    data[i * 3] = c[0] * l;
    data[i * 3 + 1] = c[1] * l;
    data[i * 3 + 2] = c[2] * l;
  }
  for (const { color, cx, cy, r, rh, disc, bounds } of scene.shapes) {
    for (let y = Math.max(bounds.y0, region.y0); y < Math.min(bounds.y1, region.y1); y++) {
      for (let x = Math.max(bounds.x0, region.x0); x < Math.min(bounds.x1, region.x1); x++) {
        const dx = (x + 0.5 - cx) / r;
        const dy = (y + 0.5 - cy) / rh;
        if (disc && dx * dx + dy * dy > 1) continue;
        const j = (y - region.y0) * rw + (x - region.x0);
        const i = j * 3;
        const l = 0.7 + 0.6 * (light[j] as number);
        data[i] = 0.25 * (data[i] as number) + 0.75 * color[0] * l;
        data[i + 1] = 0.25 * (data[i + 1] as number) + 0.75 * color[1] * l;
        data[i + 2] = 0.25 * (data[i + 2] as number) + 0.75 * color[2] * l;
      }
    }
  }
  return data;
}

/** A whole background at once (see {@link BackgroundTiles} for one shaded on demand). */
export function backgroundTexture(prng: Prng, width: number, height: number): Texture {
  const data = shadeBackground(backgroundScene(prng, width, height), fullRegion(width, height));
  return { width, height, data };
}

/** The side of a {@link BackgroundTiles} tile, in pixels. */
const TILE = 32;

/**
 * A background shaded on demand, in {@link TILE}×{@link TILE} tiles kept once shaded: reading a
 * region costs the tiles it touches, not the whole frame. Its pixels are those of
 * {@link backgroundTexture} with the same `prng`, bit for bit.
 */
export class BackgroundTiles {
  readonly width: number;
  readonly height: number;
  private readonly scene: BackgroundScene;
  private readonly columns: number;
  /** Per tile (row-major): whether it is shaded. */
  private readonly shaded: Uint8Array;
  /** The whole background (RGB floats, HWC), allocated on first use; valid in the shaded tiles. */
  private data: Float32Array | null = null;

  constructor(prng: Prng, width: number, height: number) {
    this.width = width;
    this.height = height;
    this.scene = backgroundScene(prng, width, height);
    this.columns = Math.ceil(width / TILE);
    this.shaded = new Uint8Array(this.columns * Math.ceil(height / TILE));
  }

  /**
   * Copies the background's pixels of `region` (inside the frame) into `out`: RGB floats, HWC,
   * `x1 − x0` per row.
   */
  read(region: PixelRegion, out: Float32Array): void {
    const rw = region.x1 - region.x0;
    if (rw <= 0 || region.y1 <= region.y0) return;
    this.data ??= new Float32Array(this.width * this.height * 3);
    const data = this.data;
    const tx0 = Math.floor(region.x0 / TILE);
    const tx1 = Math.ceil(region.x1 / TILE);
    for (let ty = Math.floor(region.y0 / TILE); ty * TILE < region.y1; ty++) {
      // Shade this row's missing tiles in one go, from the first to the last (shading costs less
      // per pixel the wider the region; shaded tiles in between get the same values again).
      let first = -1;
      let last = -1;
      for (let tx = tx0; tx < tx1; tx++) {
        if (this.shaded[ty * this.columns + tx]) continue;
        if (first < 0) first = tx;
        last = tx;
      }
      if (first >= 0) this.shade(first, last + 1, ty, data);
    }
    for (let y = region.y0; y < region.y1; y++) {
      const src = (y * this.width + region.x0) * 3;
      out.set(data.subarray(src, src + rw * 3), (y - region.y0) * rw * 3);
    }
  }

  /** Shades tiles `[tx0, tx1)` of tile row `ty` into `data`. */
  private shade(tx0: number, tx1: number, ty: number, data: Float32Array): void {
    const W = this.width;
    const run = clipRegion(
      { x0: tx0 * TILE, y0: ty * TILE, x1: tx1 * TILE, y1: (ty + 1) * TILE },
      W,
      this.height,
    );
    const pixels = shadeBackground(this.scene, run);
    const rw = run.x1 - run.x0;
    for (let y = run.y0; y < run.y1; y++) {
      const src = (y - run.y0) * rw * 3;
      data.set(pixels.subarray(src, src + rw * 3), (y * W + run.x0) * 3);
    }
    this.shaded.fill(1, ty * this.columns + tx0, ty * this.columns + tx1);
  }
}
