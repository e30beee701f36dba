import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { deriveSeed, hash32, Prng } from './prng';

describe.skipIf(testBackend() !== 'cpu')('Prng', () => {
  it('is a pure function of the seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    expect(new Prng(43).nextUint32()).not.toBe(xs[0]);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('draws uniform numbers: range, mean, variance and a χ² test over 10 bins', () => {
    const p = new Prng(7);
    const n = 20000;
    const bins = new Array(10).fill(0);
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = p.next();
      if (!(u >= 0 && u < 1)) outside++;
      bins[Math.floor(u * 10)]++;
      sum += u;
      sq += u * u;
    }
    expect(outside).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
    const chi2 = bins.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
  });

  it('int covers both ends; normal has mean 0 and unit variance', () => {
    const p = new Prng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(p.int(2, 5));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < 20000; i++) {
      const z = p.normal();
      sum += z;
      sq += z * z;
    }
    expect(sum / 20000).toBeCloseTo(0, 1);
    expect(sq / 20000).toBeCloseTo(1, 1);
  });

  it('forks depend on the seed and key only, not on what was drawn before', () => {
    const a = new Prng(9);
    const b = new Prng(9);
    for (let i = 0; i < 10; i++) b.next();
    expect(a.fork(3).next()).toBe(b.fork(3).next());
    expect(a.fork(3).next()).not.toBe(a.fork(4).next());
    expect(deriveSeed(9, 3)).not.toBe(deriveSeed(9, 4));
    expect(hash32(0)).not.toBe(hash32(1));
  });

  it('rejects a non-finite seed', () => {
    expect(() => new Prng(Number.NaN)).toThrow(/seed must be a finite integer/);
  });
});
