import { ConfigError } from '../core/errors';

/** A pair `[height, width]` (or a single number for both). */
export type Pair = number | [number, number];

/** Explicit zero padding `[[top, bottom], [left, right]]`. */
export type PaddingPairs = [[number, number], [number, number]];

/**
 * Conv padding, as in torch: a number or `[ph, pw]` (symmetric), `'same'` (stride 1 only; the
 * extra pixel of an even total goes to the bottom/right, as torch does), `'valid'` (none), or
 * explicit pairs `[[top, bottom], [left, right]]`.
 */
export type Conv2dPadding = number | [number, number] | 'same' | 'valid' | PaddingPairs;

export function toPair(v: Pair, what: string, where: string, min = 1): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ConfigError(
      `${where}: ${what} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return p;
}

/** Resolves a padding spec into explicit `[[top, bottom], [left, right]]` pairs. */
export function resolvePadding(
  padding: Conv2dPadding,
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
  where: string,
): PaddingPairs {
  if (padding === 'valid')
    return [
      [0, 0],
      [0, 0],
    ];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new ConfigError(
        `${where}: padding 'same' needs stride 1 (as in torch), got stride [${stride.join(', ')}]`,
      );
    }
    const total = [dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)] as const;
    const top = Math.floor(total[0] / 2);
    const left = Math.floor(total[1] / 2);
    return [
      [top, total[0] - top],
      [left, total[1] - left],
    ];
  }
  if (typeof padding === 'number') {
    const [p] = toPair(padding, 'padding', where, 0);
    return [
      [p, p],
      [p, p],
    ];
  }
  if (Array.isArray(padding) && padding.length === 2) {
    if (typeof padding[0] === 'number' && typeof padding[1] === 'number') {
      const [ph, pw] = toPair(padding as [number, number], 'padding', where, 0);
      return [
        [ph, ph],
        [pw, pw],
      ];
    }
    const pairs = padding as PaddingPairs;
    if (
      pairs.every((q) => Array.isArray(q) && q.length === 2 && q.every((d) => Number.isInteger(d) && d >= 0))
    ) {
      return [
        [pairs[0][0], pairs[0][1]],
        [pairs[1][0], pairs[1][1]],
      ];
    }
  }
  throw new ConfigError(
    `${where}: padding must be a number, [ph, pw], 'same', 'valid' or [[top, bottom], [left, right]], got ${JSON.stringify(padding)}`,
  );
}

/** Output size of one spatial dimension, torch's formula. */
export function convOutSize(size: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((size + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}
