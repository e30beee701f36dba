import { ConfigError, ShapeError } from '@spiketrack/neurons';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { FrameError } from '../frames/frame-error';
import type { RgbImage } from '../frames/rgb-image';
import { SyntheticSequence } from '../synthetic/sequence';
import type { Box } from '../tracker/box';
import { NccTracker } from './ncc';

/** IoU of two continuous xywh boxes (computed here, independently of the metrics module). */
function overlap(a: Box, b: Box): number {
  const iw = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  return (iw * ih) / (a[2] * a[3] + b[2] * b[3] - iw * ih);
}

/** `image` moved by (dx, dy) whole pixels, the uncovered border filled from the nearest edge. */
function shifted(image: RgbImage, dx: number, dy: number): RgbImage {
  const { width: W, height: H } = image;
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = Math.min(W - 1, Math.max(0, x - dx));
      const sy = Math.min(H - 1, Math.max(0, y - dy));
      data.set(image.data.subarray((sy * W + sx) * 3, (sy * W + sx) * 3 + 3), (y * W + x) * 3);
    }
  }
  return { width: W, height: H, data };
}

const still = { distractors: 0, occlusions: 0, noise: 0, motionBlur: false, illumination: false };

describe.skipIf(testBackend() !== 'cpu')('NccTracker', () => {
  const first = new SyntheticSequence({ seed: 21, width: 160, height: 120, frames: 1, ...still }).frame(0);

  it('finds a whole-pixel shift exactly, with a correlation of 1 and the same size', () => {
    const t = new NccTracker({ templatePixels: 10_000 }); // no downscaling: the template is the box
    t.initialize(first.image, first.box);
    const r = t.track(shifted(first.image, 7, -4));
    expect(r.score).toBeGreaterThan(0.99);
    expect(r.box[0]).toBeCloseTo(first.box[0] + 7, 0);
    expect(r.box[1]).toBeCloseTo(first.box[1] - 4, 0);
    expect(Math.abs(r.box[0] - first.box[0] - 7)).toBeLessThan(0.5);
    expect(Math.abs(r.box[1] - first.box[1] + 4)).toBeLessThan(0.5);
    expect(r.box[2]).toBe(first.box[2]);
    expect(r.box[3]).toBe(first.box[3]);
  });

  it('ignores a global change of gain and offset (zero-mean, normalized)', () => {
    const t = new NccTracker();
    t.initialize(first.image, first.box);
    const dim = { ...first.image, data: first.image.data.map((v) => Math.round(0.6 * v + 20)) };
    const r = t.track(dim);
    expect(r.score).toBeGreaterThan(0.98);
    expect(overlap(r.box, first.box)).toBeGreaterThan(0.9);
  });

  it('follows an easy moving target (blur and lighting, no distractor or occluder)', () => {
    const seq = new SyntheticSequence({
      seed: 4,
      width: 160,
      height: 120,
      frames: 40,
      distractors: 0,
      occlusions: 0,
    });
    const t = new NccTracker();
    const f0 = seq.frame(0);
    t.initialize(f0.image, f0.box);
    const ious: number[] = [];
    for (let i = 1; i < seq.length; i++) {
      const f = seq.frame(i);
      const r = t.track(f.image);
      expect(r.box.every(Number.isFinite)).toBe(true);
      expect(r.score).toBeGreaterThanOrEqual(-1);
      expect(r.score).toBeLessThanOrEqual(1);
      ious.push(overlap(r.box, f.box));
    }
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    // A box of the target's size placed at random in the frame overlaps it by ~0.03 on average.
    expect(mean).toBeGreaterThan(0.6);
    expect(Math.min(...ious)).toBeGreaterThan(0.3);
    t.dispose();
  });

  it('keeps the last box with score 0 when the template has no texture', () => {
    const flat: RgbImage = { width: 40, height: 30, data: new Uint8Array(40 * 30 * 3).fill(90) };
    const t = new NccTracker();
    t.initialize(flat, [10, 10, 8, 6]);
    expect(t.track(flat)).toEqual({ box: [10, 10, 8, 6], score: 0 });
  });

  it('rejects bad frames, boxes, options and order of calls with typed errors', () => {
    const t = new NccTracker();
    expect(() => t.track(first.image)).toThrow(/call initialize/);
    const rgba = { width: 160, height: 120, data: new Uint8Array(160 * 120 * 4) };
    expect(() => t.initialize(rgba, [1, 1, 5, 5])).toThrow(FrameError);
    expect(() => t.initialize(first.image, [1, 1, 0, 5])).toThrow(ShapeError);
    expect(() => t.initialize(first.image, [500, 1, 5, 5])).toThrow(/outside the 160 × 120 frame/);
    expect(() => t.initialize(first.image, [1, Number.NaN, 5, 5])).toThrow(/finite/);
    t.initialize(first.image, first.box);
    const small: RgbImage = { width: 80, height: 60, data: new Uint8Array(80 * 60 * 3) };
    expect(() => t.track(small)).toThrow(/80×60, but the sequence started at 160×120/);
    t.dispose();
    expect(() => t.track(first.image)).toThrow(/after dispose/);
    expect(() => new NccTracker({ scales: [] })).toThrow(ConfigError);
    expect(() => new NccTracker({ searchFactor: 0.5 })).toThrow(/searchFactor/);
    expect(() => new NccTracker({ templatePixels: 4 })).toThrow(/templatePixels/);
    expect(() => new NccTracker({ coarseStep: 0 })).toThrow(/coarseStep/);
    expect(() => new NccTracker({ scalePenalty: 2 })).toThrow(/scalePenalty/);
  });
});
