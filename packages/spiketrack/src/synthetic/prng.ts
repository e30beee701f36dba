/**
 * A small seeded pseudo-random generator of our own (a splitmix32-style counter hash), so that the
 * synthetic benchmark is identical on every JavaScript engine: it uses only 32-bit integer
 * arithmetic (`Math.imul`, shifts, xor), which JavaScript defines exactly.
 */

/** Mixes a 32-bit integer into a well-distributed 32-bit integer (unsigned). */
export function hash32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Combines a seed with a sub-stream key (a small integer), giving an independent seed. */
export function deriveSeed(seed: number, key: number): number {
  return hash32((hash32(seed >>> 0) ^ Math.imul(key | 0, 0x27d4eb2f)) >>> 0);
}

/**
 * A seeded stream of uniform numbers. The state is a counter hashed by {@link hash32}, so streams
 * for different keys ({@link Prng.fork}) never overlap in a way that matters here.
 */
export class Prng {
  private readonly seed: number;
  private state: number;

  /** @param seed any integer (taken modulo 2³²). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Prng: seed must be a finite integer, got ${seed}`);
    this.seed = Math.trunc(seed) >>> 0;
    this.state = hash32(this.seed);
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    return hash32(this.state);
  }

  /** Uniform in [0, 1), with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** −1 or +1 with equal probability. */
  sign(): number {
    return this.next() < 0.5 ? -1 : 1;
  }

  /**
   * An approximately normal number (mean 0, standard deviation 1): the sum of four uniforms,
   * rescaled (Irwin–Hall), which needs no transcendental functions.
   */
  normal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508075688772;
  }

  /**
   * An independent generator for the sub-stream `key` of this generator's seed. It depends only on
   * the seed and the key, not on how many numbers were drawn before.
   */
  fork(key: number): Prng {
    return new Prng(deriveSeed(this.seed, key));
  }
}
