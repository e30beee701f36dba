/**
 * The non-learned baseline: zero-mean normalized cross-correlation (NCC) of a fixed grey-level
 * template over a search region of 4× the target (4w × 4h around the last box), at three scales
 * (0.95, 1, 1.05), with no template update.
 *
 * Speed: the template is the first box resampled so that it has at most `templatePixels` pixels
 * (default 400, e.g. 20×20), and the search region at the same resolution (4× the template in each
 * direction), by exact area averaging through an integral image (see `integral.ts`). The
 * correlation is direct (n template pixels × about 9n offsets, ≈ 1.4 M multiply-adds per scale for
 * n = 400), first at every second offset, then at every offset around the three best; the local
 * means and energies of the search image come from integral images, so the zero-mean
 * normalization costs O(1) per offset. About 35 fps at 640×480 on one loaded core here (the
 * resolution of the frame only matters for the integral image).
 */
import { ConfigError, ShapeError } from '@spiketrack/neurons';
import { assertRgbImage, type RgbImage } from '../frames/rgb-image';
import { type Box, checkBox } from '../tracker/box';
import { type GreyIntegral, greyIntegral, resampleArea } from './integral';
import type { PlainTracker, PlainTrackResult } from './tracker';

/** Options of {@link NccTracker}. */
export interface NccTrackerOptions {
  /** Scale factors tried per frame, relative to the last box (default [0.95, 1, 1.05]). */
  readonly scales?: readonly number[];
  /** Search region size in target sizes, per side (default 4). */
  readonly searchFactor?: number;
  /** Largest number of template pixels; larger targets are averaged down to it (default 400). */
  readonly templatePixels?: number;
  /**
   * Multiplies the score of every scale other than 1 (default 0.98), so that the size only changes
   * when the evidence is clearly better (the usual scale penalty of correlation trackers).
   */
  readonly scalePenalty?: number;
  /**
   * The first pass correlates every `coarseStep`-th offset (in both directions), the second every
   * offset nearer than `coarseStep` to the three best of the first (default 2; 1 is the
   * exhaustive search).
   */
  readonly coarseStep?: number;
}

/**
 * Zero-mean NCC tracker (see the module comment). Implements {@link PlainTracker}.
 *
 * @example
 * const tracker = new NccTracker();
 * tracker.initialize(frames[0], [100, 80, 60, 40]); // x, y, w, h
 * for (const f of frames.slice(1)) console.log(tracker.track(f)); // { box, score }
 */
export class NccTracker implements PlainTracker {
  private readonly scales: readonly number[];
  private readonly factor: number;
  private readonly maxPixels: number;
  private readonly penalty: number;
  private readonly coarseStep: number;
  private template: Float32Array | null = null;
  private templateNorm = 0;
  private tw = 0;
  private th = 0;
  private frameSize: [number, number] = [0, 0];
  private cx = 0;
  private cy = 0;
  private w = 0;
  private h = 0;
  private disposed = false;

  constructor(options: NccTrackerOptions = {}) {
    this.scales = options.scales ?? [0.95, 1, 1.05];
    this.factor = options.searchFactor ?? 4;
    this.maxPixels = options.templatePixels ?? 400;
    this.penalty = options.scalePenalty ?? 0.98;
    this.coarseStep = options.coarseStep ?? 2;
    if (!this.scales.length || this.scales.some((s) => !(s > 0 && Number.isFinite(s)))) {
      throw new ConfigError(`NccTracker: scales must be positive numbers, got [${this.scales.join(', ')}]`);
    }
    if (!(this.factor >= 1 && Number.isFinite(this.factor))) {
      throw new ConfigError(`NccTracker: searchFactor must be ≥ 1, got ${this.factor}`);
    }
    if (!(Number.isInteger(this.maxPixels) && this.maxPixels >= 16)) {
      throw new ConfigError(`NccTracker: templatePixels must be an integer ≥ 16, got ${this.maxPixels}`);
    }
    if (!(Number.isInteger(this.coarseStep) && this.coarseStep >= 1)) {
      throw new ConfigError(`NccTracker: coarseStep must be an integer ≥ 1, got ${this.coarseStep}`);
    }
    if (!(this.penalty > 0 && this.penalty <= 1)) {
      throw new ConfigError(`NccTracker: scalePenalty must be in (0, 1], got ${this.penalty}`);
    }
  }

  /** The template's size in pixels `[w, h]` (after {@link initialize}). */
  get templateSize(): readonly [number, number] {
    return [this.tw, this.th];
  }

  /**
   * @throws FrameError for a malformed frame; ShapeError for a box that is not 4 finite numbers,
   * has no area, or lies outside the frame.
   */
  initialize(frame: RgbImage, box: Box): void {
    this.checkUsable();
    assertRgbImage(frame, 'NccTracker.initialize');
    const [x, y, w, h] = checkBox(box, 'NccTracker.initialize', frame);
    const k = Math.min(1, Math.sqrt(this.maxPixels / (w * h)));
    this.tw = Math.max(3, Math.round(w * k));
    this.th = Math.max(3, Math.round(h * k));
    const t = new Float32Array(this.tw * this.th);
    resampleArea(greyIntegral(frame), x, y, w / this.tw, h / this.th, this.tw, this.th, t);
    let mean = 0;
    for (const v of t) mean += v;
    mean /= t.length;
    let energy = 0;
    for (let i = 0; i < t.length; i++) {
      const v = (t[i] as number) - mean;
      t[i] = v;
      energy += v * v;
    }
    this.template = t;
    this.templateNorm = Math.sqrt(energy);
    this.frameSize = [frame.width, frame.height];
    this.cx = x + w / 2;
    this.cy = y + h / 2;
    this.w = w;
    this.h = h;
  }

  /** @throws FrameError for a malformed frame; ShapeError when its size differs from the first. */
  track(frame: RgbImage): PlainTrackResult {
    this.checkUsable();
    const template = this.template;
    if (!template) throw new ConfigError('NccTracker.track: call initialize(frame, box) first');
    assertRgbImage(frame, 'NccTracker.track');
    if (frame.width !== this.frameSize[0] || frame.height !== this.frameSize[1]) {
      throw new ShapeError(
        `NccTracker.track: the frame is ${frame.width}×${frame.height}, but the sequence started at ${this.frameSize[0]}×${this.frameSize[1]}`,
      );
    }
    // A template without texture matches nothing: keep the last box.
    if (this.templateNorm < 1e-6) return { box: this.box(), score: 0 };
    const g = greyIntegral(frame);
    let best = { score: Number.NEGATIVE_INFINITY, cx: this.cx, cy: this.cy, scale: 1 };
    for (const s of this.scales) {
      const m = this.matchAtScale(g, template, s);
      const score = s === 1 ? m.score : m.score * (m.score > 0 ? this.penalty : 1 / this.penalty);
      if (score > best.score) best = { ...m, score, scale: s };
    }
    const [W, H] = this.frameSize;
    this.w = Math.min(Math.max(this.w * best.scale, 4), W);
    this.h = Math.min(Math.max(this.h * best.scale, 4), H);
    this.cx = Math.min(Math.max(best.cx, 0), W);
    this.cy = Math.min(Math.max(best.cy, 0), H);
    const raw =
      best.scale === 1 ? best.score : best.score / (best.score > 0 ? this.penalty : 1 / this.penalty);
    return { box: this.box(), score: Math.max(-1, Math.min(1, raw)) };
  }

  /** Drops the template; the tracker throws if used again. */
  dispose(): void {
    this.template = null;
    this.disposed = true;
  }

  private checkUsable(): void {
    if (this.disposed) throw new ConfigError('NccTracker: used after dispose()');
  }

  private box(): Box {
    return [this.cx - this.w / 2, this.cy - this.h / 2, this.w, this.h];
  }

  /**
   * The best NCC position at one scale: the search region (factor × the scaled box, centred on the
   * last centre) resampled to the template's resolution, correlated at every offset.
   */
  private matchAtScale(g: GreyIntegral, template: Float32Array, scale: number) {
    const tw = this.tw;
    const th = this.th;
    const dx = (this.w * scale) / tw; // frame pixels per template pixel
    const dy = (this.h * scale) / th;
    const sw = Math.round(tw * this.factor);
    const sh = Math.round(th * this.factor);
    const x0 = this.cx - (sw / 2) * dx;
    const y0 = this.cy - (sh / 2) * dy;
    const search = new Float32Array(sw * sh);
    resampleArea(g, x0, y0, dx, dy, sw, sh, search);
    // Integral images of the search region and of its square, for the local means and energies.
    const stride = sw + 1;
    const s1 = new Float64Array(stride * (sh + 1));
    const s2 = new Float64Array(stride * (sh + 1));
    for (let y = 0; y < sh; y++) {
      let r1 = 0;
      let r2 = 0;
      for (let x = 0; x < sw; x++) {
        const v = search[y * sw + x] as number;
        r1 += v;
        r2 += v * v;
        s1[(y + 1) * stride + x + 1] = (s1[y * stride + x + 1] as number) + r1;
        s2[(y + 1) * stride + x + 1] = (s2[y * stride + x + 1] as number) + r2;
      }
    }
    const nu = sw - tw + 1;
    const nv = sh - th + 1;
    const n = tw * th;
    const norm = this.templateNorm;
    // NCC at offset (u, v): Σ t'·s over the window (the template is zero-mean, so the window's
    // mean drops out) over the norms of t' and of the window's deviations from its mean.
    const nccAt = (u: number, v: number): number => {
      let num = 0;
      for (let b = 0; b < th; b++) {
        const srow = (v + b) * sw + u;
        const trow = b * tw;
        for (let a = 0; a < tw; a++) num += (template[trow + a] as number) * (search[srow + a] as number);
      }
      const i0 = v * stride + u;
      const i1 = (v + th) * stride + u;
      const sum = (s1[i1 + tw] as number) - (s1[i1] as number) - (s1[i0 + tw] as number) + (s1[i0] as number);
      const sq = (s2[i1 + tw] as number) - (s2[i1] as number) - (s2[i0 + tw] as number) + (s2[i0] as number);
      const varN = sq - (sum * sum) / n;
      return varN > 1e-6 ? num / (norm * Math.sqrt(varN)) : 0;
    };
    // Coarse to fine: every `step`-th offset first, then every offset around the best ones. The
    // search image is area-averaged, so a correlation peak is wider than the coarse step.
    const step = this.coarseStep;
    const map = new Float32Array(nu * nv).fill(Number.NaN);
    let bi = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    const visit = (u: number, v: number) => {
      const i = v * nu + u;
      if (!Number.isNaN(map[i] as number)) return;
      const score = nccAt(u, v);
      map[i] = score;
      if (score > bestScore) {
        bestScore = score;
        bi = i;
      }
    };
    // The coarse pass keeps its three best offsets; the fine pass visits around each of them.
    const top = [-1, -1, -1];
    const topScore = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (let v = 0; v < nv; v += step) {
      for (let u = 0; u < nu; u += step) {
        visit(u, v);
        const sc = map[v * nu + u] as number;
        if (sc > (topScore[2] as number)) {
          let k = 2;
          while (k > 0 && sc > (topScore[k - 1] as number)) {
            topScore[k] = topScore[k - 1] as number;
            top[k] = top[k - 1] as number;
            k--;
          }
          topScore[k] = sc;
          top[k] = v * nu + u;
        }
      }
    }
    if (step > 1) {
      for (const c of top) {
        if (c < 0) continue;
        const cu = c % nu;
        const cv = (c - cu) / nu;
        for (let v = Math.max(0, cv - step + 1); v <= Math.min(nv - 1, cv + step - 1); v++) {
          for (let u = Math.max(0, cu - step + 1); u <= Math.min(nu - 1, cu + step - 1); u++) visit(u, v);
        }
      }
      // The peak's four neighbours (for the sub-pixel fit); if one is higher, climb to it.
      for (let peak = -1; peak !== bi; ) {
        peak = bi;
        const pu = peak % nu;
        const pv = (peak - pu) / nu;
        if (pu > 0) visit(pu - 1, pv);
        if (pu < nu - 1) visit(pu + 1, pv);
        if (pv > 0) visit(pu, pv - 1);
        if (pv < nv - 1) visit(pu, pv + 1);
      }
    }
    const bu = bi % nu;
    const bv = (bi - bu) / nu;
    // Sub-pixel peak: a parabola through the peak and its two neighbours, along each axis.
    const refine = (l: number, c: number, r: number) => {
      const d = l - 2 * c + r;
      return d < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (l - r)) / d)) : 0;
    };
    const ou = bu > 0 && bu < nu - 1 ? refine(map[bi - 1] as number, bestScore, map[bi + 1] as number) : 0;
    const ov = bv > 0 && bv < nv - 1 ? refine(map[bi - nu] as number, bestScore, map[bi + nu] as number) : 0;
    return {
      score: bestScore,
      cx: x0 + (bu + ou + tw / 2) * dx,
      cy: y0 + (bv + ov + th / 2) * dy,
    };
  }
}
