/**
 * `--shard i/n`: splitting a benchmark across machines. The sequences are sorted by name (code
 * point order, so every machine agrees) and shard `i` (0-based) takes those whose index in that
 * order satisfies `index % n === i`. The shards of one `n` partition the benchmark.
 */
import { UsageError } from '../command';

/** A parsed `--shard i/n`. */
export interface Shard {
  /** 0-based, `< count`. */
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n` (integers, `0 ≤ i < n`); a {@link UsageError} otherwise. */
export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || !(count >= 1) || !(index < count)) {
    throw new UsageError(`--shard must be i/n with 0 <= i < n (0-based, e.g. 0/4), got '${value}'`);
  }
  return { index, count };
}

/** The names of shard `shard` of `names` (see the module comment), sorted. */
export function shardNames(names: readonly string[], shard: Shard): string[] {
  return [...names]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .filter((_, i) => i % shard.count === shard.index);
}
