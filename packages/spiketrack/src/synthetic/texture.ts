/**
 * Procedural textures for the synthetic benchmark: value-noise fBm mapped through a colour palette,
 * stripes, and clutter shapes. Only arithmetic (no `Math.sin`/`exp`), so the output is identical on
 * every JavaScript engine.
 */
import type { Prng } from './prng';

/** A float RGB image (values 0..255, HWC) used as a texture. */
export interface Texture {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

type Rgb = readonly [number, number, number];

const smooth = (t: number): number => t * t * (3 - 2 * t);

/** Value noise in [0, 1]: random values on a lattice of spacing `cell` pixels, smoothly interpolated. */
export function valueNoise(prng: Prng, width: number, height: number, cell: number): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const lattice = new Float32Array(gw * gh);
  for (let i = 0; i < lattice.length; i++) lattice[i] = prng.next();
  const out = new Float32Array(width * height);
  const ox = prng.next();
  const oy = prng.next();
  for (let y = 0; y < height; y++) {
    const fy = y / cell + oy;
    const iy = Math.floor(fy);
    const ty = smooth(fy - iy);
    for (let x = 0; x < width; x++) {
      const fx = x / cell + ox;
      const ix = Math.floor(fx);
      const tx = smooth(fx - ix);
      const a = lattice[iy * gw + ix] as number;
      const b = lattice[iy * gw + ix + 1] as number;
      const c = lattice[(iy + 1) * gw + ix] as number;
      const d = lattice[(iy + 1) * gw + ix + 1] as number;
      const top = a + (b - a) * tx;
      out[y * width + x] = top + (c + (d - c) * tx - top) * ty;
    }
  }
  return out;
}

/** Fractal noise: `octaves` layers of {@link valueNoise}, each at half the cell size and half the weight. */
export function fbm(prng: Prng, width: number, height: number, cell: number, octaves: number): Float32Array {
  const out = new Float32Array(width * height);
  let weight = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    const layer = valueNoise(prng, width, height, Math.max(1, cell / 2 ** o));
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + weight * (layer[i] as number);
    total += weight;
    weight /= 2;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / total;
  return out;
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
function paletteAt(palette: readonly Rgb[], t: number): Rgb {
  const s = Math.min(Math.max(t, 0), 1) * (palette.length - 1);
  const i = Math.min(Math.floor(s), palette.length - 2);
  const f = s - i;
  const a = palette[i] as Rgb;
  const b = palette[i + 1] as Rgb;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Stretches noise values (which cluster around 0.5) over the palette. */
const contrast = (v: number, k: number): number => 0.5 + (v - 0.5) * k;

/**
 * A background: two fBm fields (one picks the palette colour, one the brightness) plus clutter:
 * rectangles and discs of other textures, so that the target is not the only structure.
 */
export function backgroundTexture(prng: Prng, width: number, height: number): Texture {
  const palette: Rgb[] = Array.from({ length: 4 }, () => randomColor(prng, false));
  const scale = Math.max(width, height);
  const hue = fbm(prng, width, height, scale / 4, 4);
  const light = fbm(prng, width, height, scale / 10, 4);
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const c = paletteAt(palette, contrast(hue[i] as number, 2.2));
    const l = 1 + 1.4 * ((light[i] as number) - 0.5);
    data[i * 3] = c[0] * l;
    data[i * 3 + 1] = c[1] * l;
    data[i * 3 + 2] = c[2] * l;
  }
  const shapes = prng.int(12, 24);
  for (let s = 0; s < shapes; s++) {
    const color = randomColor(prng, prng.next() < 0.3);
    const cx = prng.uniform(0, width);
    const cy = prng.uniform(0, height);
    const r = prng.uniform(0.02, 0.09) * scale;
    const rh = r * prng.uniform(0.4, 1.6);
    const disc = prng.next() < 0.5;
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(width, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - rh));
    const y1 = Math.min(height, Math.ceil(cy + rh));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const dx = (x + 0.5 - cx) / r;
        const dy = (y + 0.5 - cy) / rh;
        if (disc && dx * dx + dy * dy > 1) continue;
        const i = (y * width + x) * 3;
        const l = 0.7 + 0.6 * (light[y * width + x] as number);
        data[i] = 0.25 * (data[i] as number) + 0.75 * color[0] * l;
        data[i + 1] = 0.25 * (data[i + 1] as number) + 0.75 * color[1] * l;
        data[i + 2] = 0.25 * (data[i + 2] as number) + 0.75 * color[2] * l;
      }
    }
  }
  return { width, height, data };
}

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
