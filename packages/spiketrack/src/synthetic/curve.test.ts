import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { KnotCurve, randomWalkKnots } from './curve';

describe.skipIf(testBackend() !== 'cpu')('KnotCurve', () => {
  it('passes through its knots and is flat beyond them', () => {
    const c = new KnotCurve([0, 10, 5, 7], 10);
    expect([0, 10, 20, 30].map((t) => c.at(t))).toEqual([0, 10, 5, 7]);
    expect(c.at(-5)).toBe(0);
    expect(c.at(99)).toBe(7);
  });

  it('reproduces a straight line exactly (Catmull-Rom is exact on linear data inside)', () => {
    const c = new KnotCurve([0, 2, 4, 6, 8], 1);
    for (const t of [1.25, 1.5, 2.75]) expect(c.at(t)).toBeCloseTo(2 * t, 12);
  });

  it('has a continuous first derivative at the knots (finite differences)', () => {
    const c = new KnotCurve([0, 10, 3, 8, 1], 5);
    const h = 1e-4;
    for (const k of [5, 10, 15]) {
      const left = (c.at(k) - c.at(k - h)) / h;
      const right = (c.at(k + h) - c.at(k)) / h;
      expect(Math.abs(left - right)).toBeLessThan(1e-2);
    }
  });

  it('random walks stay in bounds with steps no larger than asked', () => {
    let s = 1;
    const next = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
    const k = randomWalkKnots(next, 200, 5, 3, 0, 10);
    expect(k).toHaveLength(200);
    expect(k.every((v) => v >= 0 && v <= 10)).toBe(true);
    for (let i = 1; i < k.length; i++)
      expect(Math.abs((k[i] as number) - (k[i - 1] as number))).toBeLessThanOrEqual(3 + 1e-12);
  });

  it('rejects fewer than two knots or a non-positive spacing', () => {
    expect(() => new KnotCurve([1], 1)).toThrow(/at least 2 knots/);
    expect(() => new KnotCurve([1, 2], 0)).toThrow(/spacing must be positive/);
  });
});
