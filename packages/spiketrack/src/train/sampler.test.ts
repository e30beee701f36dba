import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import type { RgbImage } from '../frames/rgb-image';
import { Prng } from '../synthetic/prng';
import type { Box } from '../tracker/box';
import { IMAGENET_MEAN, IMAGENET_STD } from '../tracker/preprocess';
import { boxInCrop, jitterBox, type TrainingSequence, TrainingSampler } from './sampler';

/** A dark frame with one bright rectangle at `box` (integer pixels). */
function frameWithBox(W: number, H: number, box: Box): RgbImage {
  const data = new Uint8Array(W * H * 3).fill(20);
  const [x, y, w, h] = box;
  for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) data.set([250, 250, 250], (r * W + c) * 3);
  return { width: W, height: H, data };
}

/** A sequence whose rectangle moves right by 2 px a frame; frames in `hidden` are invisible. */
function movingSequence(n: number, hidden: Set<number> = new Set()): TrainingSequence & { calls: number[] } {
  const calls: number[] = [];
  const box = (i: number): Box => [40 + 2 * i, 50, 24, 16];
  return {
    name: 'moving',
    length: n,
    calls,
    box,
    visible: (i) => !hidden.has(i),
    frame: (i) => {
      calls.push(i);
      return frameWithBox(200, 160, box(i));
    },
  };
}

/** Bounding box (fractions of R) of the bright pixels of a normalized crop (red channel). */
function brightExtent(pixels: Float32Array, R: number): Box {
  const bright = (0.9 - (IMAGENET_MEAN[0] as number)) / (IMAGENET_STD[0] as number);
  let x0 = R;
  let y0 = R;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < R; y++) {
    for (let x = 0; x < R; x++) {
      if ((pixels[(y * R + x) * 3] as number) > bright) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return [x0 / R, y0 / R, (x1 - x0 + 1) / R, (y1 - y0 + 1) / R];
}

describe.skipIf(testBackend() !== 'cpu')('TrainingSampler', () => {
  it('maps boxes into the crop as transform_image_to_crop does', () => {
    // A crop box centred on the target, factor 1: the target fills the middle of the crop.
    const b: Box = [10, 20, 40, 40];
    expect(boxInCrop(b, b, 2, 80)).toEqual([(39.5 - 40) / 80, (39.5 - 40) / 80, 1, 1]);
    // Shifted crop: the box moves by the offset times the resize factor.
    const [x] = boxInCrop(b, [20, 20, 40, 40], 0.5, 64);
    // centre (64 − 1)/2 + (30 − 40)·0.5 = 26.5, width 20: x = 16.5
    expect(x * 64).toBeCloseTo(16.5, 12);
  });

  it('jitters only when asked, with the log-normal scale and bounded centre offset', () => {
    const rng = new Prng(1);
    expect(jitterBox([5, 6, 7, 8], 0, 0, rng)).toEqual([5, 6, 7, 8]);
    for (let i = 0; i < 200; i++) {
      const [x, y, w, h] = jitterBox([100, 100, 20, 20], 3.5, 0.5, rng);
      const off = Math.sqrt(w * h) * 3.5 * 0.5;
      expect(Math.abs(x + w / 2 - 110)).toBeLessThanOrEqual(off + 1e-9);
      expect(Math.abs(y + h / 2 - 110)).toBeLessThanOrEqual(off + 1e-9);
    }
  });

  it('crops the target where the search box says, flipped or not', async () => {
    const seq = movingSequence(30);
    const R = 64;
    const sampler = new TrainingSampler([seq], {
      numTemplates: 2,
      resolution: R,
      seed: 7,
      brightnessJitter: 0,
      grayscaleProbability: 0,
    });
    let flips = 0;
    for (let k = 0; k < 12; k++) {
      const s = await sampler.sample(k);
      expect(s.templates).toHaveLength(2);
      expect(s.search).toHaveLength(R * R * 3);
      if (s.source.flipped) flips++;
      // Templates are not jittered: the target sits in the middle of each template crop.
      for (const tb of s.templateBoxes) {
        expect(tb[0] + tb[2] / 2).toBeCloseTo((R - 1) / 2 / R, 6);
        expect(tb[2] / tb[3]).toBeCloseTo(24 / 16, 6);
      }
      const seen = brightExtent(s.search, R);
      const [bx, by, bw, bh] = s.searchBox;
      if (bx >= 0 && by >= 0 && bx + bw <= 1 && by + bh <= 1) {
        // Bilinear resizing blurs the edges by up to a pixel or two of the crop.
        for (const [a, b] of [
          [seen[0], bx],
          [seen[1], by],
          [seen[0] + seen[2], bx + bw],
          [seen[1] + seen[3], by + bh],
        ] as const) {
          expect(Math.abs(a - b)).toBeLessThan(2.5 / R);
        }
      }
      const [first] = s.source.templateFrames;
      expect(s.source.searchFrame).toBeGreaterThan(first as number);
    }
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(12);
  });

  it('is deterministic per sample index, and uses only visible frames within the gap', async () => {
    const hidden = new Set([3, 4, 5, 10, 11]);
    const seq = movingSequence(40, hidden);
    const sampler = new TrainingSampler([seq], { numTemplates: 3, resolution: 32, maxGap: 6, seed: 3 });
    const a = await sampler.sample(5);
    const b = await sampler.sample(5);
    expect(Array.from(a.search)).toEqual(Array.from(b.search));
    expect(a.source).toEqual(b.source);
    const c = await sampler.sample(6);
    expect(Array.from(c.search)).not.toEqual(Array.from(a.search));
    for (let k = 0; k < 30; k++) {
      const s = await sampler.sample(k);
      const frames = [...s.source.templateFrames, s.source.searchFrame];
      for (const f of frames) expect(hidden.has(f), `frame ${f} is hidden`).toBe(false);
      const [base, ...prev] = s.source.templateFrames as [number, ...number[]];
      for (const p of prev) expect(p).toBeLessThan(base);
      expect(s.source.searchFrame - base).toBeLessThanOrEqual(6 + 5 * 50);
    }
  });

  it('rejects bad options', () => {
    expect(() => new TrainingSampler([], { numTemplates: 1, resolution: 64 })).toThrow(
      /no training sequences/,
    );
    expect(() => new TrainingSampler([movingSequence(5)], { numTemplates: 0, resolution: 64 })).toThrow(
      /numTemplates/,
    );
    expect(() => new TrainingSampler([movingSequence(5)], { numTemplates: 1, resolution: 8 })).toThrow(
      /resolution/,
    );
  });
});
