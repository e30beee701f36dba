import { ConfigError, formatShape, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';

/** Checks that `v` is a positive integer (a channel count, a head count, …). */
export function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** The token grid `[rows, cols]` of a `gridSize` option (one number for a square grid). */
export function gridOf(where: string, grid: unknown): [number, number] {
  if (Array.isArray(grid)) {
    if (grid.length !== 2) {
      throw new ConfigError(`${where}: gridSize must be a number or [rows, cols], got [${grid.join(', ')}]`);
    }
    return [positiveInt(where, 'gridSize[0]', grid[0]), positiveInt(where, 'gridSize[1]', grid[1])];
  }
  const g = positiveInt(where, 'gridSize', grid);
  return [g, g];
}

/** Checks that options are an object. */
export function optionsObject<T>(where: string, opts: T): T {
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object`);
  return opts;
}

/** Throws a {@link ShapeError} unless `x` is a tensor. */
export function tensorArg(where: string, x: unknown, what: string, expected: string): tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new ShapeError(
      `${where}: expected ${what} to be a tf.Tensor of shape ${expected}, got ${describe(x)}`,
    );
  }
  if (x.isDisposed) throw new ShapeError(`${where}: ${what} ${formatShape(x.shape)} has been disposed`);
  return x;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}
