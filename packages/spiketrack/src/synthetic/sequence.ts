/**
 * The synthetic sequence generator: a textured background, a textured target moving smoothly with
 * scale and aspect change, distractors that look like the target, occluders that cover part of it,
 * illumination change, motion blur and sensor noise. Pure JavaScript (browser-safe): every frame
 * is rendered on demand as an RGB `Uint8Array` with its ground-truth box, from the seed alone.
 */
import { ConfigError } from '@spiketrack/neurons';
import { BackgroundTiles } from './background';
import { KnotCurve, randomWalkKnots } from './curve';
import { clipRegion, fullRegion, type PixelRegion } from './pixel-region';
import { deriveSeed, hash32, Prng } from './prng';
import { objectTexture, sampleTexture, similarTexture, type Texture } from './texture';
import type { RgbImage } from '../frames/rgb-image';
import type { Box } from '../tracker/box';

/** What a synthetic sequence contains. Every field but `seed` has a default. */
export interface SyntheticSequenceOptions {
  /** Any integer; the same seed and options give the same frames, byte for byte. */
  readonly seed: number;
  /** The sequence's folder name (default `synthetic-<seed>`). */
  readonly name?: string;
  /** Frame width in pixels (default 640). */
  readonly width?: number;
  /** Frame height in pixels (default 480). */
  readonly height?: number;
  /** Number of frames (default 120). */
  readonly frames?: number;
  /** The target's initial size √(w·h) as a fraction of min(width, height) (default 0.15). */
  readonly targetSize?: number;
  /** The largest relative size change over the sequence, e.g. 0.3 for ×0.7 … ×1.3 (default 0.3). */
  readonly scaleChange?: number;
  /** The largest relative aspect change (default 0.25). */
  readonly aspectChange?: number;
  /**
   * Motion: the path's knots (every 15 frames) are a random walk whose steps are at most
   * `speed · min(width, height)` pixels per frame in each direction (default 0.015).
   */
  readonly speed?: number;
  /** Objects that look like the target (its texture with 45 % of another mixed in; default 1). */
  readonly distractors?: number;
  /** Occluders: bars narrower than the target that sweep across it (partial occlusion; default 1). */
  readonly occlusions?: number;
  /** Global brightness change and a moving brightness gradient (default true). */
  readonly illumination?: boolean;
  /** Each moving object is averaged over its motion during the frame (default true). */
  readonly motionBlur?: boolean;
  /** Standard deviation of the sensor noise in grey levels (default 2). */
  readonly noise?: number;
}

/** The options with every default filled in. */
export type ResolvedSyntheticOptions = Required<SyntheticSequenceOptions>;

/** How much of the target a frame shows. */
export interface SyntheticVisibility {
  /** The fraction of the target's area that is visible (0 … 1). */
  readonly visibleRatio: number;
  /**
   * GOT-10k's cover level: 0 fully occluded, 1 … 7 for visible ratios in (0, 15 %], (15, 30 %],
   * … (90, 100 %), 8 fully visible.
   */
  readonly cover: number;
  /** GOT-10k's absence flag: true when nothing of the target is visible. */
  readonly absent: boolean;
}

/** One rendered frame and its ground truth. */
export interface SyntheticFrame extends SyntheticVisibility {
  /** 0-based frame index. */
  readonly index: number;
  /** The frame: 8-bit RGB, HWC. */
  readonly image: RgbImage;
  /**
   * The target's full extent `[x, y, w, h]` (also where it is occluded), in continuous pixel
   * coordinates: pixel i covers [i, i + 1).
   */
  readonly box: Box;
}

/** A rectangle whose centre and size follow smooth curves over time. */
interface Mover {
  readonly cx: (t: number) => number;
  readonly cy: (t: number) => number;
  readonly w: (t: number) => number;
  readonly h: (t: number) => number;
  readonly texture: Texture;
}

/**
 * Where a mover is during a frame's exposure: `samples` rectangles `[l, top, w, h]` (flattened)
 * along its motion, and the pixels they touch.
 */
interface Exposure {
  readonly samples: number;
  readonly rects: readonly number[];
  readonly region: PixelRegion;
}

/**
 * `Math.round(v)` clamped to 0 … 255 (and 0 for NaN), exactly: for v ≥ 0.5, `v + 0.5` rounds to a
 * double with the same floor (it is exact unless it reaches the next power of two, which is then an
 * integer that the sum exceeds by less than 0.5), and below 0.5 the result is 0 either way. Faster
 * than `Math.round`, whose rounding branch the CPU cannot predict on noisy values.
 */
function toByte(v: number): number {
  if (!(v >= 0.5)) return 0;
  const r = Math.floor(v + 0.5);
  return r > 255 ? 255 : r;
}

/** Coverage of the pixel centred at (px, py) by a rectangle, with a one-pixel linear ramp at the edges. */
function rectCoverage(l: number, top: number, w: number, h: number, px: number, py: number): number {
  return Math.min(px - l + 0.5, l + w - px + 0.5, py - top + 0.5, top + h - py + 0.5, 1);
}

const KNOT_SPACING = 15;
const LIGHT_SPACING = 30;
const BLUR_MAX_SAMPLES = 16;

function resolve(o: SyntheticSequenceOptions): ResolvedSyntheticOptions {
  const r: ResolvedSyntheticOptions = {
    seed: o.seed,
    name: o.name ?? `synthetic-${o.seed}`,
    width: o.width ?? 640,
    height: o.height ?? 480,
    frames: o.frames ?? 120,
    targetSize: o.targetSize ?? 0.15,
    scaleChange: o.scaleChange ?? 0.3,
    aspectChange: o.aspectChange ?? 0.25,
    speed: o.speed ?? 0.015,
    distractors: o.distractors ?? 1,
    occlusions: o.occlusions ?? 1,
    illumination: o.illumination ?? true,
    motionBlur: o.motionBlur ?? true,
    noise: o.noise ?? 2,
  };
  const problems: string[] = [];
  const int = (k: keyof ResolvedSyntheticOptions, lo: number, hi = Number.MAX_SAFE_INTEGER) => {
    const v = r[k] as number;
    if (!Number.isInteger(v) || v < lo || v > hi)
      problems.push(`${k} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  const real = (k: keyof ResolvedSyntheticOptions, lo: number, hi: number) => {
    const v = r[k] as number;
    if (typeof v !== 'number' || !(v >= lo && v <= hi))
      problems.push(`${k} must be in [${lo}, ${hi}], got ${v}`);
  };
  int('seed', -(2 ** 31), 2 ** 32 - 1);
  int('width', 32, 8192);
  int('height', 32, 8192);
  int('frames', 1, 100_000);
  int('distractors', 0, 8);
  int('occlusions', 0, 8);
  real('targetSize', 0.03, 0.4);
  real('scaleChange', 0, 0.6);
  real('aspectChange', 0, 0.6);
  real('speed', 0, 0.1);
  real('noise', 0, 50);
  if (typeof r.name !== 'string' || !/^[\w.-]+$/.test(r.name)) {
    problems.push(`name must be letters, digits, '_', '-' or '.', got '${r.name}'`);
  }
  if (problems.length) throw new ConfigError(`synthetic sequence: ${problems.join('; ')}`);
  return r;
}

/**
 * A deterministic synthetic tracking sequence. Construction draws the scene (textures, curves);
 * {@link SyntheticSequence.frame} renders any frame independently.
 *
 * @example
 * const seq = new SyntheticSequence({ seed: 7, frames: 30 });
 * for (const f of seq) console.log(f.index, f.box, f.cover); // f.image: RGB Uint8Array, HWC
 */
export class SyntheticSequence implements Iterable<SyntheticFrame> {
  /** The options, with defaults filled in. */
  readonly options: ResolvedSyntheticOptions;
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** Number of frames. */
  readonly length: number;
  private readonly background: BackgroundTiles;
  private readonly target: Mover;
  private readonly distractors: Mover[];
  private readonly occluders: Mover[];
  private readonly light: { gain: KnotCurve; gx: KnotCurve; gy: KnotCurve } | null;
  private readonly noiseSeed: number;

  /** @throws ConfigError when an option is out of range. */
  constructor(options: SyntheticSequenceOptions) {
    const o = resolve(options);
    this.options = o;
    this.name = o.name;
    this.width = o.width;
    this.height = o.height;
    this.length = o.frames;
    const root = new Prng(o.seed);
    const W = o.width;
    const H = o.height;
    const minSide = Math.min(W, H);
    this.background = new BackgroundTiles(root.fork(1), W, H);
    this.noiseSeed = deriveSeed(o.seed, 2);
    const knots = Math.ceil(Math.max(o.frames - 1, 1) / KNOT_SPACING) + 1;

    // The target: base size, aspect, and smooth scale/aspect factors.
    const tp = root.fork(3);
    const texSize = 64;
    const targetTexture = objectTexture(tp.fork(1), texSize);
    const size = o.targetSize * minSide;
    const aspect = tp.uniform(0.6, 1.6); // w / h
    const sqrtA = Math.sqrt(aspect);
    const scale = new KnotCurve(
      randomWalkKnots(() => tp.next(), knots, 1, o.scaleChange * 0.6, 1 - o.scaleChange, 1 + o.scaleChange),
      KNOT_SPACING,
    );
    const aspectF = new KnotCurve(
      randomWalkKnots(
        () => tp.next(),
        knots,
        1,
        o.aspectChange * 0.6,
        1 - o.aspectChange,
        1 + o.aspectChange,
      ),
      KNOT_SPACING,
    );
    const clampF = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const tw = (t: number) =>
      size *
      sqrtA *
      clampF(scale.at(t), 1 - o.scaleChange, 1 + o.scaleChange) *
      clampF(aspectF.at(t), 1 - o.aspectChange, 1 + o.aspectChange);
    const th = (t: number) =>
      ((size / sqrtA) * clampF(scale.at(t), 1 - o.scaleChange, 1 + o.scaleChange)) /
      clampF(aspectF.at(t), 1 - o.aspectChange, 1 + o.aspectChange);
    const maxW = Math.min(size * sqrtA * (1 + o.scaleChange) * (1 + o.aspectChange), W * 0.9);
    const maxH = Math.min(((size / sqrtA) * (1 + o.scaleChange)) / (1 - o.aspectChange), H * 0.9);
    const margin = 2;
    const bounds = (extentW: number, extentH: number) => ({
      x0: Math.min(extentW / 2 + margin, W / 2),
      x1: Math.max(W - extentW / 2 - margin, W / 2),
      y0: Math.min(extentH / 2 + margin, H / 2),
      y1: Math.max(H - extentH / 2 - margin, H / 2),
    });
    const tb = bounds(maxW, maxH);
    const step = o.speed * minSide * KNOT_SPACING;
    const start = { x: tp.uniform(tb.x0, tb.x1), y: tp.uniform(tb.y0, tb.y1) };
    const tcx = new KnotCurve(
      randomWalkKnots(() => tp.next(), knots, start.x, step, tb.x0, tb.x1),
      KNOT_SPACING,
    );
    const tcy = new KnotCurve(
      randomWalkKnots(() => tp.next(), knots, start.y, step, tb.y0, tb.y1),
      KNOT_SPACING,
    );
    this.target = {
      cx: (t) => clampF(tcx.at(t), tb.x0, tb.x1),
      cy: (t) => clampF(tcy.at(t), tb.y0, tb.y1),
      w: tw,
      h: th,
      texture: targetTexture,
    };

    // Distractors: the target's look, their own paths, starting away from the target.
    this.distractors = [];
    for (let d = 0; d < o.distractors; d++) {
      const dp = root.fork(100 + d);
      const dSize = size * dp.uniform(0.85, 1.15);
      const dAspect = Math.sqrt(aspect * dp.uniform(0.8, 1.25));
      const dScale = new KnotCurve(
        randomWalkKnots(() => dp.next(), knots, 1, 0.15, 0.8, 1.2),
        KNOT_SPACING,
      );
      const dw = (t: number) => dSize * dAspect * dScale.at(t);
      const dh = (t: number) => (dSize / dAspect) * dScale.at(t);
      const db = bounds(dSize * dAspect * 1.2, (dSize / dAspect) * 1.2);
      let sx = dp.uniform(db.x0, db.x1);
      let sy = dp.uniform(db.y0, db.y1);
      for (let tries = 0; tries < 20; tries++) {
        const far =
          Math.abs(sx - start.x) > (tw(0) + dw(0)) / 2 + 4 ||
          Math.abs(sy - start.y) > (th(0) + dh(0)) / 2 + 4;
        if (far) break;
        sx = dp.uniform(db.x0, db.x1);
        sy = dp.uniform(db.y0, db.y1);
      }
      const dcx = new KnotCurve(
        randomWalkKnots(() => dp.next(), knots, sx, step, db.x0, db.x1),
        KNOT_SPACING,
      );
      const dcy = new KnotCurve(
        randomWalkKnots(() => dp.next(), knots, sy, step, db.y0, db.y1),
        KNOT_SPACING,
      );
      this.distractors.push({
        cx: (t) => dcx.at(t),
        cy: (t) => dcy.at(t),
        w: dw,
        h: dh,
        texture: similarTexture(dp.fork(1), targetTexture, 0.45),
      });
    }

    // Occluders: a bar off-screen at frame 0 that crosses the target's centre at frame te.
    this.occluders = [];
    for (let e = 0; e < o.occlusions; e++) {
      const op = root.fork(200 + e);
      const lo = 0.25 + (0.5 * e) / Math.max(o.occlusions, 1);
      const te = Math.max(
        1,
        Math.round(o.frames * op.uniform(lo, lo + 0.5 / Math.max(o.occlusions, 1) - 0.05)),
      );
      const vertical = op.next() < 0.5;
      const across = vertical ? tw(te) : th(te);
      const thick = across * op.uniform(0.25, 0.5);
      const long = (vertical ? th(te) : tw(te)) * op.uniform(1.6, 3);
      const fromLow = op.next() < 0.5;
      const side = vertical ? W : H;
      const startPos = fromLow ? -thick : side + thick;
      const hit = vertical ? this.target.cx(te) : this.target.cy(te);
      const v = (hit - startPos) / te;
      const offset = (vertical ? th(te) : tw(te)) * op.uniform(-0.3, 0.3);
      const other = (vertical ? this.target.cy(te) : this.target.cx(te)) + offset;
      const sweep = (t: number) => startPos + v * t;
      const texture = objectTexture(op.fork(1), 32);
      this.occluders.push(
        vertical
          ? { cx: sweep, cy: () => other, w: () => thick, h: () => long, texture }
          : { cx: () => other, cy: sweep, w: () => long, h: () => thick, texture },
      );
    }

    if (o.illumination) {
      const lp = root.fork(4);
      const lk = Math.ceil(Math.max(o.frames - 1, 1) / LIGHT_SPACING) + 1;
      this.light = {
        gain: new KnotCurve(
          randomWalkKnots(() => lp.next(), lk, 1, 0.3, 0.6, 1.3),
          LIGHT_SPACING,
        ),
        gx: new KnotCurve(
          randomWalkKnots(() => lp.next(), lk, 0, 0.3, -0.4, 0.4),
          LIGHT_SPACING,
        ),
        gy: new KnotCurve(
          randomWalkKnots(() => lp.next(), lk, 0, 0.3, -0.4, 0.4),
          LIGHT_SPACING,
        ),
      };
    } else {
      this.light = null;
    }
  }

  /** The ground-truth box of frame `index` (cheap: nothing is rendered). */
  groundTruth(index: number): Box {
    this.checkIndex(index);
    const w = this.target.w(index);
    const h = this.target.h(index);
    return [this.target.cx(index) - w / 2, this.target.cy(index) - h / 2, w, h];
  }

  /** Renders frame `index` (0-based). */
  frame(index: number): SyntheticFrame {
    this.checkIndex(index);
    return {
      index,
      image: this.renderRegion(index, fullRegion(this.width, this.height)),
      box: this.groundTruth(index),
      ...this.visibility(index),
    };
  }

  /**
   * The visibility of frame `index`'s target, exactly as {@link SyntheticSequence.frame} reports
   * it, from the coverage of the target and the occluders alone (cheap: no colour is rendered).
   */
  visibility(index: number): SyntheticVisibility {
    this.checkIndex(index);
    const target = this.exposure(this.target, index);
    const { x0, y0, x1, y1 } = target.region;
    const rw = Math.max(0, x1 - x0);
    // The target's own coverage per pixel (rounded to float32, as frames stored it), then what the
    // occluders leave of it.
    const visible = new Float32Array(rw * Math.max(0, y1 - y0));
    let area = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const j = (y - y0) * rw + (x - x0);
        visible[j] = this.coverage(target, x, y);
        area += visible[j] as number;
      }
    }
    for (const occ of this.occluders) {
      const e = this.exposure(occ, index);
      for (let y = Math.max(e.region.y0, y0); y < Math.min(e.region.y1, y1); y++) {
        for (let x = Math.max(e.region.x0, x0); x < Math.min(e.region.x1, x1); x++) {
          const j = (y - y0) * rw + (x - x0);
          visible[j] = (visible[j] as number) * (1 - Math.fround(this.coverage(e, x, y)));
        }
      }
    }
    let seen = 0;
    for (let j = 0; j < visible.length; j++) seen += visible[j] as number;
    const visibleRatio = area > 0 ? Math.min(1, seen / area) : 0;
    return { visibleRatio, cover: coverLevel(visibleRatio), absent: visibleRatio <= 1e-6 };
  }

  /**
   * Renders only `region` of frame `index`: a whole-frame image whose pixels inside the region
   * (clipped to the frame) are those of {@link SyntheticSequence.frame}, bit for bit, and 0 outside.
   * Costs about the region's area instead of the frame's.
   */
  renderRegion(index: number, region: PixelRegion): RgbImage {
    this.checkIndex(index);
    const area = clipRegion(region, this.width, this.height);
    const color = new Float32Array((area.x1 - area.x0) * (area.y1 - area.y0) * 3);
    this.background.read(area, color);
    for (const d of this.distractors) this.render(d, index, color, area);
    this.render(this.target, index, color, area);
    for (const occ of this.occluders) this.render(occ, index, color, area);
    return { data: this.finish(color, index, area), width: this.width, height: this.height };
  }

  /** Renders the frames in order, one at a time (nothing is kept). */
  *[Symbol.iterator](): Iterator<SyntheticFrame> {
    for (let i = 0; i < this.length; i++) yield this.frame(i);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`${this.name}: frame index ${index} is outside 0..${this.length - 1}`);
    }
  }

  /**
   * Where mover `m` is during frame t's exposure: half a frame before to half a frame after when
   * motion blur is on (one sample per pixel of motion, at most {@link BLUR_MAX_SAMPLES}), else at t.
   */
  private exposure(m: Mover, t: number): Exposure {
    let samples = 1;
    if (this.options.motionBlur) {
      const dx = m.cx(t + 0.5) - m.cx(t - 0.5);
      const dy = m.cy(t + 0.5) - m.cy(t - 0.5);
      samples = Math.min(BLUR_MAX_SAMPLES, Math.max(1, Math.ceil(Math.sqrt(dx * dx + dy * dy))));
    }
    const rects: number[] = [];
    let x0 = Number.POSITIVE_INFINITY;
    let y0 = Number.POSITIVE_INFINITY;
    let x1 = Number.NEGATIVE_INFINITY;
    let y1 = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < samples; k++) {
      const tk = samples === 1 ? t : t - 0.5 + k / (samples - 1);
      const w = m.w(tk);
      const h = m.h(tk);
      const l = m.cx(tk) - w / 2;
      const top = m.cy(tk) - h / 2;
      rects.push(l, top, w, h);
      x0 = Math.min(x0, l);
      y0 = Math.min(y0, top);
      x1 = Math.max(x1, l + w);
      y1 = Math.max(y1, top + h);
    }
    const region = {
      x0: Math.max(0, Math.floor(x0)),
      y0: Math.max(0, Math.floor(y0)),
      x1: Math.min(this.width, Math.ceil(x1)),
      y1: Math.min(this.height, Math.ceil(y1)),
    };
    return { samples, rects, region };
  }

  /** The mean coverage of pixel (x, y) over an exposure's samples (0 … 1). */
  private coverage(e: Exposure, x: number, y: number): number {
    const px = x + 0.5;
    const py = y + 0.5;
    let a = 0;
    for (let k = 0; k < e.samples; k++) {
      const r = e.rects;
      const cov = rectCoverage(
        r[4 * k] as number,
        r[4 * k + 1] as number,
        r[4 * k + 2] as number,
        r[4 * k + 3] as number,
        px,
        py,
      );
      if (cov <= 0) continue;
      a += cov;
    }
    return a / e.samples;
  }

  /**
   * Composites mover `m` at frame t over `color`, which holds the pixels of `area` (RGB, HWC,
   * `x1 − x0` per row), averaging each pixel over the exposure's samples (motion blur).
   */
  private render(m: Mover, t: number, color: Float32Array, area: PixelRegion): void {
    const { samples, rects, region } = this.exposure(m, t);
    const aw = area.x1 - area.x0;
    const texel = new Float32Array(3);
    for (let y = Math.max(region.y0, area.y0); y < Math.min(region.y1, area.y1); y++) {
      const py = y + 0.5;
      for (let x = Math.max(region.x0, area.x0); x < Math.min(region.x1, area.x1); x++) {
        const px = x + 0.5;
        let a = 0;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < samples; k++) {
          const l = rects[4 * k] as number;
          const top = rects[4 * k + 1] as number;
          const w = rects[4 * k + 2] as number;
          const h = rects[4 * k + 3] as number;
          const cov = rectCoverage(l, top, w, h, px, py);
          if (cov <= 0) continue;
          sampleTexture(m.texture, (px - l) / w, (py - top) / h, texel);
          a += cov;
          r += cov * (texel[0] as number);
          g += cov * (texel[1] as number);
          b += cov * (texel[2] as number);
        }
        a /= samples;
        if (a === 0) continue;
        const i = (y - area.y0) * aw + (x - area.x0);
        const keep = 1 - a;
        color[3 * i] = (color[3 * i] as number) * keep + r / samples;
        color[3 * i + 1] = (color[3 * i + 1] as number) * keep + g / samples;
        color[3 * i + 2] = (color[3 * i + 2] as number) * keep + b / samples;
      }
    }
  }

  /**
   * Lighting, sensor noise, and rounding to 8 bits, of the pixels of `area` (`color` holds them,
   * `x1 − x0` per row): a whole-frame image, 0 outside the area.
   */
  private finish(color: Float32Array, t: number, area: PixelRegion): Uint8Array {
    const W = this.width;
    const H = this.height;
    const out = new Uint8Array(W * H * 3);
    const gain = this.light ? this.light.gain.at(t) : 1;
    const gx = this.light ? this.light.gx.at(t) : 0;
    const gy = this.light ? this.light.gy.at(t) : 0;
    // A uniform noise of standard deviation σ spans ±σ·√3; 10 bits per channel from one hash.
    const amp = (this.options.noise * 1.7320508075688772 * 2) / 1023;
    const base = deriveSeed(this.noiseSeed, t);
    const aw = area.x1 - area.x0;
    for (let y = area.y0; y < area.y1; y++) {
      const rowLight = 1 + gy * (y / H - 0.5);
      for (let x = area.x0; x < area.x1; x++) {
        const light = gain * (rowLight + gx * (x / W - 0.5));
        const i = y * W + x;
        const j = (y - area.y0) * aw + (x - area.x0);
        const h = amp > 0 ? hash32((base + i) | 0) : 0;
        for (let c = 0; c < 3; c++) {
          const n = amp > 0 ? (((h >>> (10 * c)) & 1023) - 511.5) * amp : 0;
          out[3 * i + c] = toByte((color[3 * j + c] as number) * light + n);
        }
      }
    }
    return out;
  }
}

/** GOT-10k's cover level (0 … 8) of a visible ratio. */
export function coverLevel(visibleRatio: number): number {
  if (visibleRatio <= 1e-6) return 0;
  if (visibleRatio >= 1 - 1e-6) return 8;
  return Math.min(7, Math.max(1, Math.ceil(visibleRatio / 0.15 - 1e-9)));
}
