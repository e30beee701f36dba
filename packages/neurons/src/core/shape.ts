import type { Tensor } from '@tensorflow/tfjs-core';
import { ShapeError } from './errors';

/** A dimension spec: a number must match exactly, `null` matches anything. */
export type DimSpec = number | null;

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '*' : String(d))).join(', ')}]`;
}

/**
 * Throws a {@link ShapeError} naming `where` when `x` does not have the expected shape.
 * `expected` may contain `null` for free dimensions.
 */
export function assertShape(x: Tensor, expected: readonly DimSpec[], where: string, what = 'input'): void {
  const ok = x.shape.length === expected.length && expected.every((d, i) => d === null || d === x.shape[i]);
  if (!ok) {
    throw new ShapeError(
      `${where}: expected ${what} of shape ${formatShape(expected)}, got ${formatShape(x.shape)}`,
    );
  }
}

/** Throws a {@link ShapeError} unless `x.rank` is one of `ranks`. */
export function assertRank(x: Tensor, ranks: readonly number[], where: string, what = 'input'): void {
  if (!ranks.includes(x.rank)) {
    throw new ShapeError(
      `${where}: expected ${what} of rank ${ranks.join(' or ')}, got rank ${x.rank} with shape ${formatShape(x.shape)}`,
    );
  }
}

/** Throws a {@link ShapeError} unless `a` and `b` have identical shapes. */
export function assertSameShape(a: Tensor, b: Tensor, where: string, names: [string, string]): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(
      `${where}: ${names[0]} ${formatShape(a.shape)} and ${names[1]} ${formatShape(b.shape)} must have the same shape`,
    );
  }
}
