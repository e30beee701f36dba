import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';
import { Module } from '../core/module';
import { assertRank } from '../core/shape';

/** An output size: one number for both sides, or `[h, w]` where `null` keeps the input's size. */
export type OutputSize = number | [number | null, number | null];

function resolveSize(size: OutputSize, h: number, w: number, where: string): [number, number] {
  const s = typeof size === 'number' ? [size, size] : size;
  const out: [number, number] = [s[0] ?? h, s[1] ?? w];
  if (!Array.isArray(s) || s.length !== 2 || out.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ConfigError(`${where}: output size must be positive integers, got ${JSON.stringify(size)}`);
  }
  return out;
}

/**
 * Sums `x` over the adaptive bins of one axis: bin `i` covers `[floor(i·n/out), ceil((i+1)·n/out))`,
 * as torch's adaptive pooling. Returns the sums and the bin sizes.
 */
function binSum(x: tf.Tensor, axis: number, out: number): { sum: tf.Tensor; counts: number[] } {
  const n = x.shape[axis]!;
  if (n === out) return { sum: x, counts: Array<number>(out).fill(1) };
  if (n % out === 0) {
    const k = n / out;
    const shape = [...x.shape.slice(0, axis), out, k, ...x.shape.slice(axis + 1)];
    return { sum: tf.sum(tf.reshape(x, shape), axis + 1), counts: Array<number>(out).fill(k) };
  }
  const parts: tf.Tensor[] = [];
  const counts: number[] = [];
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * n) / out);
    const end = Math.ceil(((i + 1) * n) / out);
    const begin = x.shape.map((_, a) => (a === axis ? start : 0));
    const size = x.shape.map((d, a) => (a === axis ? end - start : d));
    parts.push(tf.sum(tf.slice(x, begin, size), axis));
    counts.push(end - start);
  }
  return { sum: tf.stack(parts, axis), counts };
}

/**
 * torch's `F.adaptive_avg_pool2d` on NHWC input `[N, H, W, C]` → `[N, oh, ow, C]`. Bin `i` covers
 * input rows `floor(i·H/oh) .. ceil((i+1)·H/oh) − 1` (the same for columns), so non-divisible sizes
 * give overlapping bins as in torch. Each output is the bin's sum divided by its height, then by its
 * width (torch's order), so means of power-of-two counts are exact.
 */
export function adaptiveAvgPool2d(
  x: tf.Tensor,
  outputSize: OutputSize,
  where = 'adaptiveAvgPool2d',
): tf.Tensor4D {
  assertRank(x, [4], where);
  const [, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = resolveSize(outputSize, h, w, where);
  return tf.tidy(() => {
    const rows = binSum(x, 1, oh);
    const cols = binSum(rows.sum, 2, ow);
    let y = cols.sum;
    if (rows.counts.some((c) => c !== 1)) y = tf.div(y, tf.tensor3d(rows.counts, [oh, 1, 1]));
    if (cols.counts.some((c) => c !== 1)) y = tf.div(y, tf.tensor2d(cols.counts, [ow, 1]));
    return (y === x ? tf.clone(x) : y) as tf.Tensor4D;
  });
}

/** Options of {@link resizeBilinear}. */
export interface ResizeBilinearOptions {
  /**
   * torch's `align_corners` (default false: half-pixel centres, `src = (dst + 0.5)·in/out − 0.5`,
   * clamped at 0 and at `in − 1`). With true, `src = dst·(in − 1)/(out − 1)`.
   */
  alignCorners?: boolean;
}

/**
 * torch's `F.interpolate(x, size, mode='bilinear', align_corners=False)` on NHWC input
 * `[N, H, W, C]` → `[N, size[0], size[1], C]` (tfjs's `resizeBilinear` with half-pixel centres,
 * which clamps at the borders as torch does).
 */
export function resizeBilinear(
  x: tf.Tensor,
  size: [number, number],
  opts: ResizeBilinearOptions = {},
  where = 'resizeBilinear',
): tf.Tensor4D {
  assertRank(x, [4], where);
  const [oh, ow] = resolveSize(size, x.shape[1]!, x.shape[2]!, where);
  const align = opts.alignCorners ?? false;
  return tf.image.resizeBilinear(x as tf.Tensor4D, [oh, ow], align, !align);
}

/** `nn.AdaptiveAvgPool2d` on NHWC input; see {@link adaptiveAvgPool2d}. No state. */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: OutputSize;
  constructor(outputSize: OutputSize) {
    super();
    resolveSize(outputSize, 1, 1, this.typeName);
    this.outputSize = outputSize;
  }
  forward(x: tf.Tensor): tf.Tensor4D {
    return adaptiveAvgPool2d(x, this.outputSize, this.label);
  }
}

/** Options of {@link Upsample}: exactly one of `size` and `scaleFactor`. */
export interface UpsampleOptions {
  /** Output size `[h, w]` (or one number for both). */
  size?: number | [number, number];
  /**
   * Output size as a multiple of the input's: `floor(in·scaleFactor)`. The sampling grid is the
   * one of that output size (`in/out`), identical to torch's for integer factors.
   */
  scaleFactor?: number | [number, number];
  /** Default false (half-pixel centres). */
  alignCorners?: boolean;
}

/** `nn.Upsample(mode='bilinear')` on NHWC input; see {@link resizeBilinear}. No state. */
export class Upsample extends Module {
  readonly size: [number, number] | null;
  readonly scaleFactor: [number, number] | null;
  readonly alignCorners: boolean;
  constructor(opts: UpsampleOptions) {
    super();
    if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
      throw new ConfigError(`${this.typeName}: give exactly one of size and scaleFactor`);
    }
    this.size = opts.size === undefined ? null : resolveSize(opts.size, 1, 1, this.typeName);
    const sf = opts.scaleFactor;
    this.scaleFactor = sf === undefined ? null : typeof sf === 'number' ? [sf, sf] : [sf[0], sf[1]];
    if (this.scaleFactor?.some((v) => !(v > 0))) {
      throw new ConfigError(`${this.typeName}: scaleFactor must be positive, got ${JSON.stringify(sf)}`);
    }
    this.alignCorners = opts.alignCorners ?? false;
  }
  forward(x: tf.Tensor): tf.Tensor4D {
    assertRank(x, [4], this.label);
    const size: [number, number] = this.size ?? [
      Math.floor(x.shape[1]! * this.scaleFactor![0]),
      Math.floor(x.shape[2]! * this.scaleFactor![1]),
    ];
    return resizeBilinear(x, size, { alignCorners: this.alignCorners }, this.label);
  }
}
