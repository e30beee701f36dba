import { ConfigError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../../test-support/helpers';
import { fixtureTensor, readUnit } from '../fixtures.test-helper';
import { hann1d, hann1dValues, hann2d } from './hann';

describe('Hann windows', () => {
  const unit = readUnit('hann');
  for (const n of [16, 24]) {
    it(`hann1d(${n}) and hann2d(${n}) match the reference`, async () => {
      const h1 = hann1d(n);
      expect(h1.shape).toEqual([n]);
      expectClose(
        await h1.data(),
        fixtureTensor(unit.tensors, `out.hann1d_${n}`).values,
        1e-6,
        `hann1d_${n}`,
      );
      const h2 = hann2d(n);
      expect(h2.shape).toEqual([1, n, n, 1]);
      // [1, 1, n, n] in torch and [1, n, n, 1] here have the same element order.
      expectClose(
        await h2.data(),
        fixtureTensor(unit.tensors, `out.hann2d_${n}`).values,
        1e-6,
        `hann2d_${n}`,
      );
      tf.dispose([h1, h2]);
    });
  }

  it('is 0.5·(1 − cos(2πk/(n+1))), never 0 at the border, symmetric, rectangular on request', async () => {
    const v = hann1dValues(5);
    for (let k = 1; k <= 5; k++) expect(v[k - 1]).toBeCloseTo(0.5 * (1 - Math.cos((2 * Math.PI * k) / 6)), 6);
    expect(v[0]).toBeGreaterThan(0);
    expect(Math.abs(v[0]! - v[4]!)).toBeLessThan(1e-6);
    expect(v[2]).toBe(1);
    const r = hann2d(3, 5);
    expect(r.shape).toEqual([1, 3, 5, 1]);
    const rv = await r.data();
    const rows = hann1dValues(3);
    expect(rv[1 * 5 + 2]).toBe(Math.fround(rows[1]! * v[2]!));
    r.dispose();
  });

  it('rejects bad sizes with ConfigError', () => {
    expect(() => hann1d(0)).toThrow(ConfigError);
    expect(() => hann2d(4, 2.5)).toThrow(/positive integer, got 2.5/);
  });
});
