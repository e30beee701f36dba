/**
 * Procedural textures for the synthetic benchmark: value-noise fBm mapped through a colour palette,
 * and stripes (the background, which adds clutter shapes, is in `background.ts`). Only arithmetic
 * (no `Math.sin`/`exp`), so the output is identical on every JavaScript engine.
 */
import { fullRegion, type PixelRegion } from './pixel-region';
import type { Prng } from './prng';

/** A float RGB image (values 0..255, HWC) used as a texture. */
export interface Texture {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** An RGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

const smooth = (t: number): number => t * t * (3 - 2 * t);

/**
 * The random part of {@link valueNoise}: lattice values and an offset, drawn in that order.
 * {@link valueNoiseIn} then evaluates any region of it, each pixel exactly as in the whole image.
 */
export interface NoiseLattice {
  /** Lattice spacing in pixels. */
  readonly cell: number;
  /** Lattice width (values per row). */
  readonly gw: number;
  readonly values: Float32Array;
  readonly ox: number;
  readonly oy: number;
}

/** Draws the lattice of a `width × height` {@link valueNoise} of spacing `cell`. */
export function noiseLattice(prng: Prng, width: number, height: number, cell: number): NoiseLattice {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const values = new Float32Array(gw * gh);
  for (let i = 0; i < values.length; i++) values[i] = prng.next();
  const ox = prng.next();
  const oy = prng.next();
  return { cell, gw, values, ox, oy };
}

/**
 * Adds `weight ×` the noise over `region` to `out` (row-major, `x1 − x0` per row), each value
 * rounded to float32 first as {@link valueNoise} stores it. The noise is smoothly interpolated:
 * along x between lattice columns, then along y between the two interpolated lattice rows around
 * the pixel (each lattice row is interpolated once per region, not once per pixel).
 */
function addValueNoise(noise: NoiseLattice, region: PixelRegion, weight: number, out: Float32Array): void {
  const { cell, gw, values: lattice, ox, oy } = noise;
  const rw = region.x1 - region.x0;
  // Per column: the lattice column on the pixel's left and the smoothed fraction past it.
  const ix = new Int32Array(rw);
  const tx = new Float64Array(rw);
  for (let x = region.x0; x < region.x1; x++) {
    const fx = x / cell + ox;
    const i = Math.floor(fx);
    ix[x - region.x0] = i;
    tx[x - region.x0] = smooth(fx - i);
  }
  /** Lattice row `iy` interpolated along x at each column. */
  const latticeRow = (iy: number): Float64Array => {
    const row = new Float64Array(rw);
    for (let j = 0; j < rw; j++) {
      const a = lattice[iy * gw + (ix[j] as number)] as number;
      const b = lattice[iy * gw + (ix[j] as number) + 1] as number;
      row[j] = a + (b - a) * (tx[j] as number);
    }
    return row;
  };
  let iyAbove = Number.NaN;
  let above: Float64Array = new Float64Array(0);
  let below = above;
  for (let y = region.y0; y < region.y1; y++) {
    const fy = y / cell + oy;
    const iy = Math.floor(fy);
    const ty = smooth(fy - iy);
    if (iy !== iyAbove) {
      above = iy === iyAbove + 1 ? below : latticeRow(iy);
      below = latticeRow(iy + 1);
      iyAbove = iy;
    }
    const o = (y - region.y0) * rw;
    for (let j = 0; j < rw; j++) {
      const top = above[j] as number;
      out[o + j] = (out[o + j] as number) + weight * Math.fround(top + ((below[j] as number) - top) * ty);
    }
  }
}

/** The noise's values over `region` (row-major, `x1 − x0` per row). */
export function valueNoiseIn(noise: NoiseLattice, region: PixelRegion): Float32Array {
  const out = new Float32Array((region.x1 - region.x0) * (region.y1 - region.y0));
  addValueNoise(noise, region, 1, out);
  return out;
}

/** Value noise in [0, 1]: random values on a lattice of spacing `cell` pixels, smoothly interpolated. */
export function valueNoise(prng: Prng, width: number, height: number, cell: number): Float32Array {
  return valueNoiseIn(noiseLattice(prng, width, height, cell), fullRegion(width, height));
}

/** Draws the layers of a {@link fbm}: one {@link noiseLattice} per octave, at half the cell size each. */
export function fbmLattices(
  prng: Prng,
  width: number,
  height: number,
  cell: number,
  octaves: number,
): NoiseLattice[] {
  return Array.from({ length: octaves }, (_, o) =>
    noiseLattice(prng, width, height, Math.max(1, cell / 2 ** o)),
  );
}

/** The fractal noise of `layers` (from {@link fbmLattices}) over `region`, each layer at half the weight. */
export function fbmIn(layers: readonly NoiseLattice[], region: PixelRegion): Float32Array {
  const out = new Float32Array((region.x1 - region.x0) * (region.y1 - region.y0));
  let weight = 1;
  let total = 0;
  for (const lattice of layers) {
    addValueNoise(lattice, region, weight, out);
    total += weight;
    weight /= 2;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / total;
  return out;
}

/** Fractal noise: `octaves` layers of {@link valueNoise}, each at half the cell size and half the weight. */
export function fbm(prng: Prng, width: number, height: number, cell: number, octaves: number): Float32Array {
  return fbmIn(fbmLattices(prng, width, height, cell, octaves), fullRegion(width, height));
}

/** A random colour; `saturated` ones have one channel low and one high. */
export function randomColor(prng: Prng, saturated: boolean): Rgb {
  if (!saturated) return [prng.uniform(40, 220), prng.uniform(40, 220), prng.uniform(40, 220)];
  const c: [number, number, number] = [prng.uniform(0, 255), prng.uniform(0, 255), prng.uniform(0, 255)];
  const hi = prng.int(0, 2);
  const lo = (hi + prng.int(1, 2)) % 3;
  c[hi] = prng.uniform(200, 255);
  c[lo] = prng.uniform(0, 60);
  return c;
}

/** Maps t ∈ [0, 1] onto a piecewise-linear palette. */
export function paletteAt(palette: readonly Rgb[], t: number): Rgb {
  const s = Math.min(Math.max(t, 0), 1) * (palette.length - 1);
  const i = Math.min(Math.floor(s), palette.length - 2);
  const f = s - i;
  const a = palette[i] as Rgb;
  const b = palette[i + 1] as Rgb;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Stretches noise values (which cluster around 0.5) over the palette. */
export const contrast = (v: number, k: number): number => 0.5 + (v - 0.5) * k;

/**
 * A target's texture: saturated palette colours in stripes at a random angle, crossed with blobs of
 * fBm, and a darker border, so that it has structure at several scales.
 */
export function objectTexture(prng: Prng, size: number): Texture {
  const palette: Rgb[] = [randomColor(prng, true), randomColor(prng, true), randomColor(prng, false)];
  const blobs = fbm(prng, size, size, size / 3, 3);
  const detail = fbm(prng, size, size, size / 8, 2);
  let dx = prng.uniform(-1, 1);
  let dy = prng.uniform(-1, 1);
  const norm = Math.sqrt(dx * dx + dy * dy) || 1;
  dx /= norm;
  dy /= norm;
  const period = size * prng.uniform(0.18, 0.4);
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = (x * dx + y * dy) / period;
      const stripe = p - Math.floor(p) < 0.5 ? 0 : 1;
      const b = contrast(blobs[y * size + x] as number, 2.5);
      const t = b > 0.55 ? 1 : stripe * 0.5;
      const c = paletteAt(palette, t);
      const edge = Math.min(x, y, size - 1 - x, size - 1 - y) < size * 0.06 ? 0.55 : 1;
      const l = edge * (0.75 + 0.5 * (detail[y * size + x] as number));
      const i = (y * size + x) * 3;
      data[i] = c[0] * l;
      data[i + 1] = c[1] * l;
      data[i + 2] = c[2] * l;
    }
  }
  return { width: size, height: size, data };
}

/**
 * A distractor's texture, similar to `base`: the same image with `amount` of an unrelated
 * object texture mixed in and a slight colour cast.
 */
export function similarTexture(prng: Prng, base: Texture, amount: number): Texture {
  const other = objectTexture(prng, base.width);
  const cast = [prng.uniform(0.85, 1.15), prng.uniform(0.85, 1.15), prng.uniform(0.85, 1.15)];
  const data = new Float32Array(base.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] =
      ((1 - amount) * (base.data[i] as number) + amount * (other.data[i] as number)) *
      (cast[i % 3] as number);
  }
  return { width: base.width, height: base.height, data };
}

/**
 * Bilinear sample of a texture at (u, v) ∈ [0, 1]² (clamped), written into `out[0..2]`.
 */
export function sampleTexture(tex: Texture, u: number, v: number, out: Float32Array): void {
  const fx = Math.min(Math.max(u, 0), 1) * (tex.width - 1);
  const fy = Math.min(Math.max(v, 0), 1) * (tex.height - 1);
  const x0 = Math.min(Math.floor(fx), tex.width - 2);
  const y0 = Math.min(Math.floor(fy), tex.height - 2);
  const tx = fx - x0;
  const ty = fy - y0;
  const d = tex.data;
  const i00 = (y0 * tex.width + x0) * 3;
  const i10 = i00 + 3;
  const i01 = i00 + tex.width * 3;
  const i11 = i01 + 3;
  for (let c = 0; c < 3; c++) {
    const top = (d[i00 + c] as number) + ((d[i10 + c] as number) - (d[i00 + c] as number)) * tx;
    const bottom = (d[i01 + c] as number) + ((d[i11 + c] as number) - (d[i01 + c] as number)) * tx;
    out[c] = top + (bottom - top) * ty;
  }
}
