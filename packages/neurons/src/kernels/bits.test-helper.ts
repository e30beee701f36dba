/** Test-only: bitwise comparison of float32 results, and input generators with many ties. */
import { expect } from 'vitest';

const bitsOf = (v: number): number => {
  const f = new Float32Array([v]);
  return new Uint32Array(f.buffer)[0]!;
};

/**
 * Asserts that two float32 arrays hold the same bits (so +0 ≠ −0), except that any NaN equals any
 * NaN (payloads are not specified). Names the first differing index.
 */
export function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let diffs = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (bitsOf(a) !== bitsOf(b)) {
      diffs++;
      if (first < 0) first = i;
    }
  }
  const msg =
    first < 0
      ? ''
      : `${what}: ${diffs} of ${actual.length} values differ; first at ${first}: ${Object.is(actual[first], -0) ? '-0' : actual[first]} vs ${Object.is(expected[first], -0) ? '-0' : expected[first]}`;
  expect(diffs, msg).toBe(0);
}

/** A small deterministic generator (LCG) of numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * Inputs for exactness tests: half are multiples of 1/8 in [lo, hi) (with decays of 1/2 or 1/4
 * they produce exact .5 ties in the quantizer and exact threshold crossings), half are arbitrary
 * floats in the same range.
 */
export function tieHeavyValues(n: number, seed: number, lo = -2, hi = 6): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, i) => {
    const u = lo + r() * (hi - lo);
    return i % 2 === 0 ? Math.floor(u * 8) / 8 : u;
  });
}
