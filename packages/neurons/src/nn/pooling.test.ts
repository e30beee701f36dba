import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { dyadic, fill, naiveAdaptiveAvgPool, naiveBilinear, uniform } from './naive.test-helper';
import { AdaptiveAvgPool2d, adaptiveAvgPool2d, resizeBilinear, Upsample } from './pooling';

type Shape4 = [number, number, number, number];
const size = (s: number[]) => s.reduce((a, v) => a * v, 1);

describe('adaptiveAvgPool2d', () => {
  const cases: { name: string; shape: Shape4; out: [number, number]; exact: boolean }[] = [
    { name: '8×8 → 4×4', shape: [2, 8, 8, 3], out: [4, 4], exact: true },
    { name: '6×4 → 3×2', shape: [1, 6, 4, 2], out: [3, 2], exact: true },
    {
      name: '32×32 → 16×16 (means of 4, as the retriever)',
      shape: [1, 32, 32, 2],
      out: [16, 16],
      exact: true,
    },
    {
      name: '64×64 → 16×16 (means of 16, as the retriever)',
      shape: [1, 64, 64, 1],
      out: [16, 16],
      exact: true,
    },
    { name: '5×7 → 3×4 (non-divisible, overlapping bins)', shape: [2, 5, 7, 2], out: [3, 4], exact: false },
    { name: '3×3 → 5×5 (output larger than input)', shape: [1, 3, 3, 2], out: [5, 5], exact: false },
    { name: '7×6 → 1×1 (global)', shape: [1, 7, 6, 3], out: [1, 1], exact: false },
  ];
  for (const c of cases) {
    it(`matches torch's bins: ${c.name}`, async () => {
      const xs = fill(size(c.shape), c.exact ? dyadic(3, 6, 2) : uniform(3));
      const x = tf.tensor4d(xs, c.shape);
      const y = adaptiveAvgPool2d(x, c.out);
      expect(y.shape).toEqual([c.shape[0], c.out[0], c.out[1], c.shape[3]]);
      const ref = naiveAdaptiveAvgPool(xs, c.shape, c.out[0], c.out[1]);
      if (c.exact) expect(Array.from(await y.data())).toEqual(Array.from(ref));
      else expectClose(await y.data(), ref, 1e-6, c.name);
      tf.dispose([x, y]);
    });
  }

  it('keeps a side with null, and is the identity at equal size', async () => {
    const xs = fill(2 * 6 * 5 * 2, uniform(9));
    const x = tf.tensor4d(xs, [2, 6, 5, 2]);
    const y = adaptiveAvgPool2d(x, [3, null]);
    expect(y.shape).toEqual([2, 3, 5, 2]);
    expectClose(await y.data(), naiveAdaptiveAvgPool(xs, [2, 6, 5, 2], 3, 5), 1e-6, 'null side');
    const same = adaptiveAvgPool2d(x, [6, 5]);
    expect(same).not.toBe(x);
    expect(Array.from(await same.data())).toEqual(Array.from(xs));
    tf.dispose([x, y, same]);
  });

  it('passes gradients: each input gets 1/(bin size) per bin it belongs to', async () => {
    const x = tf.ones([1, 5, 4, 1]);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(adaptiveAvgPool2d(xx, [3, 2])))(x);
    // rows 0..1, 1..3, 3..4 (sizes 2, 3, 2); columns 0..1, 2..3 (size 2)
    const rowW = [1 / 2, 1 / 2 + 1 / 3, 1 / 3, 1 / 3 + 1 / 2, 1 / 2];
    const expected = rowW.flatMap((r) => [r / 2, r / 2, r / 2, r / 2]);
    expectClose(await g.data(), expected, 1e-6, 'dL/dx');
    tf.dispose([x, g]);
  });

  it('module wrapper, errors and leaks', async () => {
    const m = new AdaptiveAvgPool2d(2);
    const x = tf.ones([1, 4, 4, 3]);
    expect(m.apply(x).shape).toEqual([1, 2, 2, 3]);
    const bad = tf.ones([4, 4, 3]);
    expect(() => m.apply(bad)).toThrow(ShapeError);
    expect(() => m.apply(bad)).toThrow('AdaptiveAvgPool2d: expected input of rank 4, got rank 3');
    expect(() => new AdaptiveAvgPool2d(0)).toThrow(ConfigError);
    await expectNoLeak(() => m.apply(x));
    await expectNoLeak(() => tf.grad((xx: tf.Tensor) => tf.sum(adaptiveAvgPool2d(xx, [3, 3])))(x));
    tf.dispose([x, bad]);
  });
});

describe('resizeBilinear (torch F.interpolate bilinear)', () => {
  const cases: { name: string; shape: Shape4; out: [number, number]; align?: boolean; exact: boolean }[] = [
    { name: '16 → 32 (half-pixel, lerp weights k/4)', shape: [1, 16, 16, 2], out: [32, 32], exact: true },
    { name: '24 → 48', shape: [1, 24, 24, 1], out: [48, 48], exact: true },
    { name: '16 → 64 (the retriever, weights k/8)', shape: [1, 16, 16, 1], out: [64, 64], exact: true },
    { name: '3 → 5 (non-integer ratio)', shape: [2, 3, 3, 2], out: [5, 5], exact: false },
    { name: '4×3 → 7×8 (different per side)', shape: [1, 4, 3, 3], out: [7, 8], exact: false },
    { name: '6 → 4 (downsampling)', shape: [1, 6, 6, 1], out: [4, 4], exact: false },
    { name: '3 → 5 with align_corners', shape: [1, 3, 3, 2], out: [5, 5], align: true, exact: false },
  ];
  for (const c of cases) {
    it(`matches torch's formula, clamped at the borders: ${c.name}`, async () => {
      const xs = fill(size(c.shape), c.exact ? dyadic(5, 6, 2) : uniform(5));
      const x = tf.tensor4d(xs, c.shape);
      const y = resizeBilinear(x, c.out, { alignCorners: c.align ?? false });
      expect(y.shape).toEqual([c.shape[0], c.out[0], c.out[1], c.shape[3]]);
      const ref = naiveBilinear(xs, c.shape, c.out[0], c.out[1], c.align ?? false);
      if (c.exact) expect(Array.from(await y.data())).toEqual(Array.from(ref));
      else expectClose(await y.data(), ref, 2e-6, c.name);
      tf.dispose([x, y]);
    });
  }

  it('hand-computed 2 → 4 values: the first/last outputs are clamped to the border pixel', async () => {
    // src = (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamp(0), lerp .25, lerp .75, clamp(1)
    const x = tf.tensor4d([0, 8], [1, 1, 2, 1]);
    const y = resizeBilinear(x, [1, 4]);
    expect(Array.from(await y.data())).toEqual([0, 2, 6, 8]);
    tf.dispose([x, y]);
  });

  it('passes gradients (each output distributes weights summing to 1)', async () => {
    const x = tf.tensor4d(fill(3 * 3, uniform(1)), [1, 3, 3, 1]);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(resizeBilinear(xx, [5, 5])))(x);
    const total = (await tf.sum(g).data())[0]!;
    expect(total).toBeCloseTo(25, 4);
    tf.dispose([x, g]);
  });

  it('Upsample module: size or scaleFactor', async () => {
    const x = tf.tensor4d(fill(4 * 4 * 2, dyadic(2)), [1, 4, 4, 2]);
    const a = new Upsample({ scaleFactor: 2 }).apply(x);
    const b = new Upsample({ size: [8, 8] }).apply(x);
    expect(a.shape).toEqual([1, 8, 8, 2]);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(() => new Upsample({})).toThrow(ConfigError);
    expect(() => new Upsample({ size: 2, scaleFactor: 2 })).toThrow(ConfigError);
    const up = new Upsample({ size: 3 });
    await expectNoLeak(() => up.apply(x));
    tf.dispose([x, a, b]);
  });
});
