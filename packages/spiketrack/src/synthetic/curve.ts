/**
 * Smooth random curves for trajectories, sizes and lighting: values at knots every `spacing`
 * frames, joined by a uniform Catmull-Rom spline (continuous position and velocity).
 */

/** A smooth curve through `knots[k]` at frame `k · spacing`. */
export class KnotCurve {
  constructor(
    readonly knots: readonly number[],
    readonly spacing: number,
  ) {
    if (knots.length < 2) throw new RangeError('KnotCurve needs at least 2 knots');
    if (!(spacing > 0)) throw new RangeError(`KnotCurve spacing must be positive, got ${spacing}`);
  }

  /** The value at frame `t` (any real number; the ends are held flat beyond the knots). */
  at(t: number): number {
    const n = this.knots.length;
    const s = Math.min(Math.max(t / this.spacing, 0), n - 1);
    const i = Math.min(Math.floor(s), n - 2);
    const f = s - i;
    const k = (j: number) => this.knots[Math.min(Math.max(j, 0), n - 1)] as number;
    const p0 = k(i - 1);
    const p1 = k(i);
    const p2 = k(i + 1);
    const p3 = k(i + 2);
    return (
      0.5 *
      (2 * p1 +
        (p2 - p0) * f +
        (2 * p0 - 5 * p1 + 4 * p2 - p3) * f * f +
        (3 * p1 - p0 - 3 * p2 + p3) * f * f * f)
    );
  }
}

/** Knots of a random walk starting at `start`, with steps in [−step, step], reflected into [lo, hi]. */
export function randomWalkKnots(
  next: () => number,
  count: number,
  start: number,
  step: number,
  lo: number,
  hi: number,
): number[] {
  const out = [start];
  let v = start;
  for (let i = 1; i < count; i++) {
    v += (2 * next() - 1) * step;
    if (v < lo) v = 2 * lo - v;
    if (v > hi) v = 2 * hi - v;
    v = Math.min(Math.max(v, lo), hi);
    out.push(v);
  }
  return out;
}
