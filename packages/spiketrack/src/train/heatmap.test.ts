import { ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { gaussianRadius, generateHeatmap, heatmapValues } from './heatmap';

const nonZero = (m: Float32Array) => Array.from(m).filter((v) => v !== 0).length;

// Pure JavaScript: one backend is enough.
describe.skipIf(testBackend() !== 'cpu')('Gaussian heat map target (CenterNet)', () => {
  it('gaussianRadius is the smallest root (CenterNet, min overlap 0.7)', () => {
    // 4×4 cells: r3 = (−1.4·8 + √(1.4²·64 + 4·2.8·0.3·16)) / 2 = (−11.2 + √179.2) / 2.
    expect(gaussianRadius(4, 4)).toBeCloseTo((-11.2 + Math.sqrt(179.2)) / 2, 5);
    expect(gaussianRadius(8, 8)).toBeCloseTo((-22.4 + Math.sqrt(716.8)) / 2, 5);
    expect(gaussianRadius(0, 0)).toBe(0);
  });

  it('draws a Gaussian of σ = (2r + 1)/6 around the centre cell, peak exactly 1', () => {
    const m = heatmapValues([0.25, 0.25, 0.25, 0.25], 16); // 4×4 cells, centre (6, 6), radius 1
    expect(m[6 * 16 + 6]).toBe(1);
    expect(m[6 * 16 + 7]).toBe(Math.fround(Math.exp(-2)));
    expect(m[7 * 16 + 7]).toBe(Math.fround(Math.exp(-4)));
    expect(nonZero(m)).toBe(9);
  });

  it('rounds the centre half to even (2.5 → 2, 8.5 → 8), as torch', () => {
    const m = heatmapValues([2 / 16, 8 / 16, 1 / 16, 1 / 16], 16); // radius 0: one cell
    expect(nonZero(m)).toBe(1);
    expect(m[8 * 16 + 2]).toBe(1);
  });

  it('clips the Gaussian at the border', () => {
    const m = heatmapValues([-4 / 16, -4 / 16, 8 / 16, 8 / 16], 16); // centre (0, 0), radius 2
    expect(m[0]).toBe(1);
    expect(nonZero(m)).toBe(9);
    expect(m[2 * 16 + 2]).toBeGreaterThan(0);
    expect(m[3]).toBe(0);
  });

  it('generateHeatmap stacks one map per box as [B, F, F, 1], and checks its input', () => {
    const boxes = tf.tensor2d([
      [0.25, 0.25, 0.25, 0.25],
      [2 / 16, 8 / 16, 1 / 16, 1 / 16],
    ]);
    const h = generateHeatmap(boxes, { featSize: 16 });
    expect(h.shape).toEqual([2, 16, 16, 1]);
    const v = h.dataSync();
    expect(Array.from(v.subarray(256))).toEqual(
      Array.from(heatmapValues([2 / 16, 8 / 16, 1 / 16, 1 / 16], 16)),
    );
    expect(() => generateHeatmap(tf.zeros([2, 3]), { featSize: 16 })).toThrow(ShapeError);
    expect(() => generateHeatmap(boxes, { featSize: 0 })).toThrow(/featSize/);
    tf.dispose([boxes, h]);
  });
});
